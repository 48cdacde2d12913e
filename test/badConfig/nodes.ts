/** The cluster name, SSH access, node groups (managers and worker pools) and their labels' keys, the AMI, unknown keys. */
import { BadConfig, pool } from "./case";

export const nodesCases: BadConfig[] = [
  ["even manager count", { managers: { count: 2 } }, /^aws-swarm:managers\.count must be 1, 3, 5 or 7, got 2: Raft/],
  ["zero managers", { managers: { count: 0 } }, /^aws-swarm:managers\.count must be 1, 3, 5 or 7, got 0/],
  ["more than seven managers", { managers: { count: 9 } }, /^aws-swarm:managers\.count .*more than 7 slows consensus/],
  ["wrong type", { managers: { count: "three" } }, /^aws-swarm:managers\.count must be an integer, got "three"$/],
  [
    "managers not an object",
    { managers: 3 },
    /^aws-swarm:managers must be an object with the keys count, instanceType, volumeSize, got 3$/,
  ],
  [
    "typo in a nested key",
    { managers: { cout: 3 } },
    /^aws-swarm:managers\.cout is not a known key; did you mean count\?$/,
  ],
  [
    "unknown top-level key",
    { workerpools: [] },
    /^aws-swarm:workerpools is not a known key; did you mean workerPools\?$/,
  ],
  ["unrelated unknown key", { flavour: "x" }, /^aws-swarm:flavour is not a known key; known keys: clusterName, /],
  [
    "duplicate pool names",
    { workerPools: [pool({}), pool({})] },
    /^aws-swarm:workerPools\[1\]\.name must be unique: "app" is already used by aws-swarm:workerPools\[0\]$/,
  ],
  [
    "pool named manager",
    { workerPools: [pool({ name: "manager" })] },
    /^aws-swarm:workerPools\[0\]\.name must not be "manager"/,
  ],
  [
    "pool named managers",
    { workerPools: [pool({ name: "managers" })] },
    /^aws-swarm:workerPools\[0\]\.name must not be "managers"/,
  ],
  [
    "pool name too long",
    { workerPools: [pool({ name: "a".repeat(21) })] },
    /^aws-swarm:workerPools\[0\]\.name must be at most 20 characters/,
  ],
  [
    "pool name upper-case",
    { workerPools: [pool({ name: "App" })] },
    /^aws-swarm:workerPools\[0\]\.name must be lower-case letters/,
  ],
  ["pool without count", { workerPools: [{ name: "app" }] }, /^aws-swarm:workerPools\[0\]\.count is required$/],
  [
    "negative pool count",
    { workerPools: [pool({ count: -1 })] },
    /^aws-swarm:workerPools\[0\]\.count must be between 0 and 50, got -1$/,
  ],
  [
    "absurd pool count",
    { workerPools: [pool({ count: 500 })] },
    /^aws-swarm:workerPools\[0\]\.count must be between 0 and 50, got 500$/,
  ],
  [
    "fractional pool count",
    { workerPools: [pool({ count: 1.5 })] },
    /^aws-swarm:workerPools\[0\]\.count must be an integer, got 1\.5$/,
  ],
  [
    "tiny volume",
    { workerPools: [pool({ volumeSize: 4 })] },
    /^aws-swarm:workerPools\[0\]\.volumeSize must be between 8 and 16384 GiB, got 4$/,
  ],
  [
    "bad instance type",
    { workerPools: [pool({ instanceType: "t3small" })] },
    /^aws-swarm:workerPools\[0\]\.instanceType must be an EC2 instance type/,
  ],
  ["pools not a list", { workerPools: { name: "app" } }, /^aws-swarm:workerPools must be a list, got an object$/],
  [
    "bad label key",
    { workerPools: [pool({}), pool({ name: "web", labels: { "Bad Key": "x" } })] },
    /^aws-swarm:workerPools\[1\]\.labels\["Bad Key"\] is not a valid label key: label keys must be lower-case/,
  ],
  [
    "label key with consecutive dots",
    { workerPools: [pool({ labels: { "a..b": "x" } })] },
    /^aws-swarm:workerPools\[0\]\.labels\["a\.\.b"\] is not a valid label key/,
  ],
  [
    "label key ending in '-'",
    { workerPools: [pool({ labels: { "tier-": "x" } })] },
    /^aws-swarm:workerPools\[0\]\.labels\.tier- is not a valid label key/,
  ],
  [
    "Docker-reserved label key",
    { workerPools: [pool({ labels: { "com.docker.stack": "x" } })] },
    /^aws-swarm:workerPools\[0\]\.labels\["com\.docker\.stack"\] uses the prefix "com\.docker\.", which Docker reserves/,
  ],
  [
    "automatic label key",
    { workerPools: [pool({ labels: { role: "db" } })] },
    /^aws-swarm:workerPools\[0\]\.labels\.role is set by aws-swarm itself/,
  ],
  [
    "aws-swarm label prefix",
    { workerPools: [pool({ labels: { "aws-swarm.zone": "x" } })] },
    /^aws-swarm:workerPools\[0\]\.labels\["aws-swarm\.zone"\] is set by aws-swarm itself/,
  ],
  [
    "label value an object",
    { workerPools: [pool({ labels: { type: { a: 1 } } })] },
    /^aws-swarm:workerPools\[0\]\.labels\.type must be a string, got an object$/,
  ],
  ["bad ssh user", { sshUser: "Admin User" }, /^aws-swarm:sshUser must be a Linux user name/],
  [
    "public key without private key",
    { sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA me" },
    /^aws-swarm:sshPrivateKey is required when aws-swarm:sshPublicKey is set/,
  ],
  [
    "private key without public key",
    { sshPrivateKey: "KEY" },
    /^aws-swarm:sshPublicKey is required when aws-swarm:sshPrivateKey is set/,
  ],
  [
    "malformed public key",
    { sshPublicKey: "ssh-dss AAAAB3 me", sshPrivateKey: "KEY" },
    /^aws-swarm:sshPublicKey must be an OpenSSH public key/,
  ],
  [
    "bad AMI id",
    { ami: "ubuntu-24.04" },
    /^aws-swarm:ami must be an AMI id like ami-0123456789abcdef0, got "ubuntu-24\.04"$/,
  ],
  [
    "detailed monitoring as text",
    { detailedMonitoring: "yes" },
    /^aws-swarm:detailedMonitoring must be true or false, got "yes"$/,
  ],
  [
    "bad cluster name",
    { clusterName: "My_Cluster" },
    /^aws-swarm:clusterName must be lower-case letters, digits and '-', starting with a letter/,
  ],
  [
    "cluster name too long",
    { clusterName: "c".repeat(29) },
    /^aws-swarm:clusterName must be at most 28 characters, got 29/,
  ],
  [
    "pool count just above the limit",
    { workerPools: [pool({ count: 51 })] },
    /^aws-swarm:workerPools\[0\]\.count must be between 0 and 50, got 51$/,
  ],
  [
    "more than ten pools",
    { workerPools: Array.from({ length: 11 }, (_, i) => pool({ name: `p${i}` })) },
    /^aws-swarm:workerPools must list at most 10 pools, got 11$/,
  ],
  [
    "more than 500 nodes in total",
    {
      managers: { count: 7 },
      availabilityZones: 6,
      workerPools: Array.from({ length: 10 }, (_, i) => pool({ name: `p${i}`, count: 50 })),
    },
    /^aws-swarm:workerPools would make 507 nodes with the managers, more than 500; lower the pools' counts$/,
  ],
  [
    "501 nodes: one manager and ten full pools",
    { availabilityZones: 3, workerPools: Array.from({ length: 10 }, (_, i) => pool({ name: `p${i}`, count: 50 })) },
    /^aws-swarm:workerPools would make 501 nodes with the managers, more than 500/,
  ],
  [
    "manager volume above the gp3 limit",
    { managers: { volumeSize: 16385 } },
    /^aws-swarm:managers\.volumeSize must be between 8 and 16384 GiB, got 16385$/,
  ],
  [
    "manager instance type without a size",
    { managers: { instanceType: "m7g" } },
    /^aws-swarm:managers\.instanceType must be an EC2 instance type such as t3\.small/,
  ],
  [
    "pool given as a name only",
    { workerPools: ["app"] },
    /^aws-swarm:workerPools\[0\] must be an object with the keys name, count/,
  ],
  [
    "typo in a pool key",
    { workerPools: [pool({ lables: { type: "x" } })] },
    /^aws-swarm:workerPools\[0\]\.lables is not a known key; did you mean labels\?$/,
  ],
  [
    "pool name starting with '-'",
    { workerPools: [pool({ name: "-app" })] },
    /^aws-swarm:workerPools\[0\]\.name must be lower-case letters, digits and '-', starting and ending/,
  ],
  [
    "labels as text",
    { workerPools: [pool({ labels: "type=x" })] },
    /^aws-swarm:workerPools\[0\]\.labels must be an object \(key: value pairs\), got "type=x"$/,
  ],
  [
    "io.docker label prefix",
    { workerPools: [pool({ labels: { "io.docker.x": "y" } })] },
    /^aws-swarm:workerPools\[0\]\.labels\["io\.docker\.x"\] uses the prefix "io\.docker\.", which Docker reserves/,
  ],
  [
    "automatic label instance-type",
    { workerPools: [pool({ labels: { "instance-type": "big" } })] },
    /^aws-swarm:workerPools\[0\]\.labels\.instance-type is set by aws-swarm itself/,
  ],
  [
    "cluster name starting with a digit",
    { clusterName: "1shop" },
    /^aws-swarm:clusterName must be lower-case letters, digits and '-', starting with a letter/,
  ],
  ["ssh user starting with a digit", { sshUser: "1admin" }, /^aws-swarm:sshUser must be a Linux user name/],
  [
    "AMI id in upper case",
    { ami: "ami-0123456789ABCDEF0" },
    /^aws-swarm:ami must be an AMI id like ami-0123456789abcdef0, got "ami-0123456789ABCDEF0"$/,
  ],
  [
    "detailed monitoring as a number",
    { detailedMonitoring: 1 },
    /^aws-swarm:detailedMonitoring must be true or false, got 1$/,
  ],
];
