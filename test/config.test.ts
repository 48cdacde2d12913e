import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, loadConfig, parseConfig } from "../lib/config";
import * as defaults from "../lib/defaults";
import { RESERVED_VARIABLES } from "../lib/variables";
import { ClusterConfig } from "../lib/types";

const PROJECT_ROOT = path.resolve(__dirname, "..");
const ADMIN = ["81.2.69.160/32"];

// ---------------------------------------------------------------------------------------------
// A test-only reader for the YAML subset the stack files use: block mappings, block sequences
// ("- " items, indented or not), plain/quoted scalars, `[]`/`{}`, and comments. It throws on
// anything else, so a stack file that outgrows it fails loudly rather than being misread.

interface Line {
  indent: number;
  text: string;
  no: number;
}

function readYaml(file: string): unknown {
  const lines: Line[] = [];
  fs.readFileSync(file, "utf8")
    .split("\n")
    .forEach((raw, i) => {
      const text = raw.replace(/(^|\s)#.*$/, "").trimEnd();
      if (text.trim() !== "") {
        lines.push({ indent: text.length - text.trimStart().length, text: text.trim(), no: i + 1 });
      }
    });
  const state = { pos: 0 };
  const value = readBlock(lines, state, 0);
  if (state.pos < lines.length) {
    throw new Error(`${file}:${lines[state.pos].no}: unexpected indentation`);
  }
  return value;
}

function readBlock(lines: Line[], state: { pos: number }, indent: number): unknown {
  const first = lines[state.pos];
  if (first.text.startsWith("- ") || first.text === "-") {
    const items: unknown[] = [];
    while (state.pos < lines.length && lines[state.pos].indent === indent && lines[state.pos].text.startsWith("-")) {
      const line = lines[state.pos];
      const rest = line.text.slice(1).trimStart();
      // "- key: value" opens a mapping whose keys sit two columns further in.
      lines[state.pos] = { ...line, indent: indent + 2, text: rest };
      items.push(
        rest.includes(": ") || rest.endsWith(":") ? readBlock(lines, state, indent + 2) : (state.pos++, scalar(rest)),
      );
    }
    return items;
  }
  const map: Record<string, unknown> = {};
  while (state.pos < lines.length && lines[state.pos].indent === indent) {
    const line = lines[state.pos];
    const split = line.text.endsWith(":") ? line.text.length - 1 : line.text.indexOf(": ");
    if (split < 0) {
      throw new Error(`line ${line.no}: expected "key: value", got ${line.text}`);
    }
    const key = String(scalar(line.text.slice(0, split)));
    const rest = line.text.slice(split + 1).trim();
    state.pos++;
    const next = lines[state.pos];
    if (rest !== "") {
      map[key] = scalar(rest);
    } else if (next && (next.indent > indent || (next.indent === indent && next.text.startsWith("- ")))) {
      map[key] = readBlock(lines, state, next.indent);
    } else {
      map[key] = null;
    }
  }
  return map;
}

function scalar(text: string): unknown {
  if (text.startsWith('"')) {
    return JSON.parse(text);
  }
  if (text.startsWith("'")) {
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (text === "[]") {
    return [];
  }
  if (text === "{}") {
    return {};
  }
  if (text === "true" || text === "false") {
    return text === "true";
  }
  return /^-?\d+$/.test(text) ? Number(text) : text;
}

/**
 * A stack file's `config:` as the Pulumi language host hands it to the program: every value a
 * string, objects and lists as JSON.
 */
function stackFileConfig(stack: string): Record<string, string> {
  const doc = readYaml(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`)) as { config: Record<string, unknown> };
  return Object.fromEntries(
    Object.entries(doc.config).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)]),
  );
}

const mocks: pulumi.runtime.Mocks = {
  newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
  call: (args) => args.inputs,
};

async function loadStack(stack: string, config: Record<string, string>, secretKeys: string[] = []) {
  await pulumi.runtime.setMocks(mocks, "aws-swarm", stack, false);
  pulumi.runtime.setAllConfig(config, secretKeys);
  return loadConfig();
}

function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** The problems parseConfig reports, or [] when the config is valid. */
function problemsOf(raw: Record<string, unknown>, root: string, stackName = "dev"): string[] {
  try {
    parseConfig(raw, stackName, root);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) {
      throw e;
    }
    return e.problems;
  }
}

// ---------------------------------------------------------------------------------------------

describe("stack files", () => {
  const infra = { name: "infra", count: 1, instanceType: "t3.small", volumeSize: 20, labels: { type: "low-memory" } };
  const routes = [
    { path: "/hello", service: "hello", port: 8080 },
    { path: "/world", service: "world", port: 8080 },
    { path: "/grafana", service: "grafana", port: 3000 },
  ];

  it.each(["dev", "prod"])(
    "Pulumi.%s.yaml is refused for its placeholder admin address alone, saying how to set yours",
    async (stack) => {
      await expect(loadStack(stack, stackFileConfig(stack))).rejects.toThrow(
        new RegExp(
          `configuration for stack "${stack}" \\(1 problem\\):\\n {2}- aws-swarm:adminCidrs\\[0\\] \\(203\\.0\\.113\\.10/32\\) ` +
            "is a documentation address \\(RFC 5737\\) that no machine has, a placeholder: set your own, " +
            "pulumi config set --path 'adminCidrs\\[0\\]' \"\\$\\(curl -s https://checkip\\.amazonaws\\.com\\)/32\"$",
        ),
      );
    },
  );

  it("Pulumi.dev.yaml loads once the admin address is set: one manager, pools infra and app, three routes", async () => {
    const config: Record<string, string> = { ...stackFileConfig("dev"), "aws-swarm:adminCidrs": JSON.stringify(ADMIN) };
    expect(config["aws:region"]).toBe("us-east-1");
    const { config: dev, sshPrivateKey } = await loadStack("dev", config);
    expect(sshPrivateKey).toBeUndefined();
    expect(dev).toEqual<ClusterConfig>({
      clusterName: "dev",
      vpcCidr: "10.0.0.0/16",
      availabilityZones: 2,
      adminCidrs: ADMIN,
      sshUser: "ubuntu",
      detailedMonitoring: false,
      managers: { name: "manager", count: 1, instanceType: "t3.small", volumeSize: 20, labels: {} },
      workerPools: [infra, { name: "app", count: 2, instanceType: "t3.small", volumeSize: 20, labels: {} }],
      swarm: {
        taskHistoryLimit: 2,
        autolock: false,
        encryptOverlay: false,
        certExpiry: "2160h",
        defaultAddrPool: "10.128.0.0/12",
        tokenGeneration: 0,
        reportDownAfter: 300,
      },
      stack: { name: "app", file: "stacks/app.yml", variables: {} },
      gateway: { port: 80, publicCidrs: ["0.0.0.0/0"], placement: "managers", routes },
      images: [{ name: "echo", context: "services/echo", dockerfile: "Dockerfile" }],
    });
  });

  it("Pulumi.prod.yaml loads once the admin address is set: three managers over three AZs, larger pools, encrypted overlay", async () => {
    const config: Record<string, string> = {
      ...stackFileConfig("prod"),
      "aws-swarm:adminCidrs": JSON.stringify(ADMIN),
    };
    const { config: prod } = await loadStack("prod", config);
    expect(prod.clusterName).toBe("prod");
    expect(prod.availabilityZones).toBe(3);
    expect(prod.managers).toEqual({ name: "manager", count: 3, instanceType: "t3.medium", volumeSize: 20, labels: {} });
    expect(prod.workerPools).toEqual([
      { ...infra, count: 2, instanceType: "t3.medium" },
      { name: "app", count: 4, instanceType: "m6i.large", volumeSize: 20, labels: {} },
    ]);
    expect(prod.swarm).toMatchObject({ encryptOverlay: true, autolock: false, taskHistoryLimit: 2 });
    expect(prod.detailedMonitoring).toBe(true);
    expect(prod.gateway).toEqual({ port: 80, publicCidrs: ["0.0.0.0/0"], placement: "managers", routes });
  });
});

describe("loadConfig", () => {
  const publicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wyqDHpSQEIQczXkVx9q me@laptop";
  const privateKey =
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";

  it("returns the configured private key as a secret, and the public key trimmed", async () => {
    const { config, sshPrivateKey } = await loadStack(
      "dev",
      {
        "aws-swarm:adminCidrs": JSON.stringify(ADMIN),
        "aws-swarm:sshPublicKey": `${publicKey}\n`,
        "aws-swarm:sshPrivateKey": privateKey,
      },
      ["aws-swarm:sshPrivateKey"],
    );
    expect(config.sshPublicKey).toBe(publicKey);
    expect(sshPrivateKey).toBeDefined();
    expect(await pulumi.isSecret(sshPrivateKey!)).toBe(true);
    expect(await promiseOf(sshPrivateKey!)).toBe(privateKey);
    expect(JSON.stringify(config)).not.toContain("PRIVATE KEY");
  });

  it("decodes top-level scalars the way Pulumi passes them, keeping string keys verbatim", async () => {
    const { config } = await loadStack("dev", {
      "aws-swarm:adminCidrs": JSON.stringify(ADMIN),
      "aws-swarm:availabilityZones": "3", // `pulumi config set availabilityZones 3` stores a string
      "aws-swarm:clusterName": "e2e",
      "aws-swarm:managers": JSON.stringify({ count: 3 }),
      "aws:region": "eu-west-1", // another namespace: not ours to judge
    });
    expect(config.availabilityZones).toBe(3);
    expect(config.clusterName).toBe("e2e");
    expect(config.managers.count).toBe(3);
  });

  it("throws one ConfigError naming the keys, before anything else runs", async () => {
    await expect(
      loadStack("dev", { "aws-swarm:adminCidrs": "203.0.113.10/32", "aws-swarm:workerpools": "[]" }),
    ).rejects.toThrow(
      /\(2 problems\):\n {2}- aws-swarm:workerpools is not a known key; did you mean workerPools\?\n {2}- aws-swarm:adminCidrs must be a list, got "203\.0\.113\.10\/32"; set items by index: pulumi config set --path 'adminCidrs\[0\]'/,
    );
  });
});

describe("parseConfig", () => {
  let root: string;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-config-"));
    fs.mkdirSync(path.join(root, "stacks"));
    fs.writeFileSync(path.join(root, "stacks", "app.yml"), "services: {}\n");
    fs.mkdirSync(path.join(root, "images", "web"), { recursive: true });
    fs.writeFileSync(path.join(root, "images", "web", "Dockerfile"), "FROM scratch\n");
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it("applies every default to a config that sets only the required key", () => {
    expect(parseConfig({ adminCidrs: ADMIN }, "staging", root)).toEqual<ClusterConfig>({
      clusterName: "staging",
      vpcCidr: "10.0.0.0/16",
      availabilityZones: 2,
      adminCidrs: ADMIN,
      sshUser: "ubuntu",
      detailedMonitoring: false,
      managers: { name: "manager", count: 1, instanceType: "t3.small", volumeSize: 20, labels: {} },
      workerPools: [],
      swarm: {
        taskHistoryLimit: 2,
        autolock: false,
        encryptOverlay: false,
        certExpiry: "2160h",
        defaultAddrPool: "10.128.0.0/12",
        tokenGeneration: 0,
        reportDownAfter: 300,
      },
      stack: { name: "app", file: "stacks/app.yml", variables: {} },
      gateway: { port: 80, publicCidrs: ["0.0.0.0/0"], placement: "managers", routes: [] },
      images: [],
    });
  });

  it("merges partial objects over the defaults", () => {
    const config = parseConfig(
      {
        adminCidrs: ADMIN,
        managers: { count: 3 },
        workerPools: [{ name: "edge", count: 2, volumeSize: 40 }],
        swarm: { autolock: true },
        gateway: { placement: "edge" },
      },
      "dev",
      root,
    );
    expect(config.managers).toEqual({
      name: "manager",
      count: 3,
      instanceType: "t3.small",
      volumeSize: 20,
      labels: {},
    });
    expect(config.workerPools).toEqual([
      { name: "edge", count: 2, instanceType: "t3.small", volumeSize: 40, labels: {} },
    ]);
    expect(config.swarm).toMatchObject({ autolock: true, taskHistoryLimit: 2, certExpiry: "2160h" });
    expect(config.gateway).toMatchObject({ placement: "edge", port: 80 });
  });

  it("accepts the optional keys when valid", () => {
    const config = parseConfig(
      {
        adminCidrs: ["81.2.69.0/24", "100.64.7.7/32"],
        ami: "ami-0123456789abcdef0",
        // Quoted in the stack file (or set with --type string): text that looks like a number or a boolean.
        workerPools: [{ name: "app", count: 1, labels: { "com.example.tier": "web", version: "2", canary: "true" } }],
        images: [{ name: "web", context: "images/web" }],
        stack: { variables: { GATEWAY_IMAGE: "traefik:v3.1" } },
      },
      "dev",
      root,
    );
    expect(config.ami).toBe("ami-0123456789abcdef0");
    expect(config.workerPools[0].labels).toEqual({ "com.example.tier": "web", version: "2", canary: "true" });
    expect(config.images).toEqual([{ name: "web", context: "images/web", dockerfile: "Dockerfile" }]);
    expect(config.stack.variables).toEqual({ GATEWAY_IMAGE: "traefik:v3.1" });
    expect(config).not.toHaveProperty("sshPublicKey");
  });

  const pool = (extra: object) => ({ name: "app", count: 1, ...extra });
  const route = (extra: object) => ({ path: "/hello", service: "hello", port: 8080, ...extra });

  // [what, raw config (adminCidrs is added unless the case sets it), the one expected problem]
  const badConfigs: [string, Record<string, unknown>, RegExp][] = [
    ["even manager count", { managers: { count: 2 } }, /^aws-swarm:managers\.count must be 1, 3, 5 or 7, got 2: Raft/],
    ["zero managers", { managers: { count: 0 } }, /^aws-swarm:managers\.count must be 1, 3, 5 or 7, got 0/],
    [
      "more than seven managers",
      { managers: { count: 9 } },
      /^aws-swarm:managers\.count .*more than 7 slows consensus/,
    ],
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
      "admin CIDR wider than a /8",
      { adminCidrs: ["0.0.0.0/1"] },
      /^aws-swarm:adminCidrs\[0\] \(0\.0\.0\.0\/1\) opens SSH to 2147483648 addresses, a large part of the internet/,
    ],
    [
      "overlay pool over docker0",
      { swarm: { defaultAddrPool: "172.16.0.0/12" } },
      /^aws-swarm:swarm\.defaultAddrPool \(172\.16\.0\.0\/12\) overlaps 172\.17\.0\.0\/16, Docker's docker0 bridge/,
    ],
    [
      "overlay pool over docker_gwbridge",
      { swarm: { defaultAddrPool: "172.18.0.0/20" } },
      /^aws-swarm:swarm\.defaultAddrPool \(172\.18\.0\.0\/20\) overlaps 172\.18\.0\.0\/16, Docker's docker_gwbridge/,
    ],
    [
      "stack file outside the project",
      { stack: { file: "../outside.yml" } },
      /^aws-swarm:stack\.file must stay inside \S+ \(relative to the project root\); "\.\.\/outside\.yml" leaves it$/,
    ],
    [
      "stack file by absolute path",
      { stack: { file: "/etc/passwd" } },
      /^aws-swarm:stack\.file must stay inside \S+ \(relative to the project root\); "\/etc\/passwd" leaves it$/,
    ],
    [
      "image context outside the project",
      { images: [{ name: "web", context: "../.." }] },
      /^aws-swarm:images\[0\]\.context must stay inside /,
    ],
    [
      "a label value YAML read as a decimal number",
      { workerPools: [pool({ labels: { version: 1.1 } })] },
      /^aws-swarm:workerPools\[0\]\.labels\.version was read as the number 1\.1, which may not be what was written; quote it$/,
    ],
    [
      "a stack variable YAML read as a number beyond exact integers",
      { stack: { variables: { BUILD: 2 ** 60 } } },
      /^aws-swarm:stack\.variables\.BUILD was read as the number 1152921504606847000, which may not be what was written/,
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
      "label value with a newline",
      { workerPools: [pool({ labels: { type: "a\nb" } })] },
      /^aws-swarm:workerPools\[0\]\.labels\.type must not contain a newline$/,
    ],
    [
      "label value an object",
      { workerPools: [pool({ labels: { type: { a: 1 } } })] },
      /^aws-swarm:workerPools\[0\]\.labels\.type must be a string, got an object$/,
    ],
    [
      "bad CIDR",
      { vpcCidr: "10.0.0/16" },
      /^aws-swarm:vpcCidr must be an IPv4 CIDR such as 10\.0\.0\.0\/16, got "10\.0\.0\/16"$/,
    ],
    ["octet out of range", { vpcCidr: "10.0.256.0/24" }, /^aws-swarm:vpcCidr must be an IPv4 CIDR/],
    [
      "unaligned CIDR",
      { vpcCidr: "10.0.1.0/16" },
      /^aws-swarm:vpcCidr is not aligned: 10\.0\.1\.0\/16 has host bits set; did you mean 10\.0\.0\.0\/16\?$/,
    ],
    [
      "VPC too large",
      { vpcCidr: "10.0.0.0/8" },
      /^aws-swarm:vpcCidr must have a prefix between \/16 and \/24, got 10\.0\.0\.0\/8$/,
    ],
    ["too many AZs", { availabilityZones: 7 }, /^aws-swarm:availabilityZones must be between 1 and 6, got 7$/],
    ["AZs as text", { availabilityZones: "two" }, /^aws-swarm:availabilityZones must be an integer, got "two"$/],
    ["admin CIDRs missing", { adminCidrs: undefined }, /^aws-swarm:adminCidrs is required: the CIDRs allowed to SSH/],
    ["admin CIDRs empty", { adminCidrs: [] }, /^aws-swarm:adminCidrs must list at least one CIDR/],
    [
      "0.0.0.0/0 admin",
      { adminCidrs: ["81.2.69.160/32", "0.0.0.0/0"] },
      /^aws-swarm:adminCidrs\[1\] must not be 0\.0\.0\.0\/0: SSH must not be open to the world/,
    ],
    [
      "unaligned admin CIDR",
      { adminCidrs: ["81.2.69.160/24"] },
      /^aws-swarm:adminCidrs\[0\] is not aligned: .*did you mean 81\.2\.69\.0\/24\?$/,
    ],
    ["admin CIDR without prefix", { adminCidrs: ["81.2.69.160"] }, /^aws-swarm:adminCidrs\[0\] must be an IPv4 CIDR/],
    [
      "admin CIDR inside a documentation range (RFC 5737)",
      { adminCidrs: ["81.2.69.160/32", "198.51.100.0/25"] },
      /^aws-swarm:adminCidrs\[1\] \(198\.51\.100\.0\/25\) is a documentation address \(RFC 5737\)/,
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
      "task history too long",
      { swarm: { taskHistoryLimit: 101 } },
      /^aws-swarm:swarm\.taskHistoryLimit must be between 0 and 100, got 101$/,
    ],
    [
      "autolock as text",
      { swarm: { autolock: "yes" } },
      /^aws-swarm:swarm\.autolock must be true or false, got "yes"$/,
    ],
    [
      "token generation negative",
      { swarm: { tokenGeneration: -1 } },
      /^aws-swarm:swarm\.tokenGeneration must be at least 0, got -1$/,
    ],
    [
      "token generation not a whole number",
      { swarm: { tokenGeneration: 1.5 } },
      /^aws-swarm:swarm\.tokenGeneration must be an integer, got 1\.5$/,
    ],
    [
      "report-down time above a day",
      { swarm: { reportDownAfter: 86401 } },
      /^aws-swarm:swarm\.reportDownAfter must be between 0 and 86400, got 86401$/,
    ],
    [
      "report-down time as text",
      { swarm: { reportDownAfter: "5m" } },
      /^aws-swarm:swarm\.reportDownAfter must be an integer/,
    ],
    [
      "cert expiry not a Go duration",
      { swarm: { certExpiry: "90d" } },
      /^aws-swarm:swarm\.certExpiry must be a Go duration such as 2160h/,
    ],
    [
      "cert expiry under an hour",
      { swarm: { certExpiry: "59m59s" } },
      /^aws-swarm:swarm\.certExpiry must be at least 1h/,
    ],
    [
      "overlapping address pool",
      { swarm: { defaultAddrPool: "10.0.0.0/8" } },
      /^aws-swarm:swarm\.defaultAddrPool \(10\.0\.0\.0\/8\) overlaps aws-swarm:vpcCidr \(10\.0\.0\.0\/16\): overlay networks/,
    ],
    [
      "VPC inside the default address pool",
      { vpcCidr: "10.128.0.0/16" },
      /^aws-swarm:swarm\.defaultAddrPool \(10\.128\.0\.0\/12, the default\) overlaps aws-swarm:vpcCidr \(10\.128\.0\.0\/16\)/,
    ],
    [
      "address pool smaller than a network",
      { swarm: { defaultAddrPool: "10.200.0.0/26" } },
      /^aws-swarm:swarm\.defaultAddrPool must have a prefix between \/8 and \/24/,
    ],
    [
      "missing stack file",
      { stack: { file: "stacks/missing.yml" } },
      /^aws-swarm:stack\.file must name an existing file relative to the project root; .*stacks\/missing\.yml does not exist$/,
    ],
    [
      "stack file is a directory",
      { stack: { file: "stacks" } },
      /^aws-swarm:stack\.file must name an existing file .* is not a file$/,
    ],
    ["bad stack name", { stack: { name: "My App" } }, /^aws-swarm:stack\.name must be a stack name/],
    [
      "bad stack variable name",
      { stack: { variables: { "1X": "y" } } },
      /^aws-swarm:stack\.variables\["1X"\] is not a valid variable name/,
    ],
    [
      "stack variable shadowing an image",
      { images: [{ name: "web", context: "images/web" }], stack: { variables: { WEB_IMAGE: "x" } } },
      /^aws-swarm:stack\.variables\.WEB_IMAGE is set from a built image/,
    ],
    [
      "a NUL character in a stack variable's value",
      { stack: { variables: { GREETING: "hello\u0000world" } } },
      /^aws-swarm:stack\.variables\.GREETING must not contain a NUL character$/,
    ],
    [
      "a NUL character in a label value",
      { workerPools: [pool({ labels: { tier: "web\u0000" } })] },
      /^aws-swarm:workerPools\[0\]\.labels\.tier must not contain a NUL character$/,
    ],
    ...["PATH", "LD_PRELOAD", "DOCKER_HOST", "https_proxy", "NO_PROXY", "BASH_ENV", "IFS"].map(
      (name): [string, Record<string, unknown>, RegExp] => [
        `stack variable ${name} (reserved)`,
        { stack: { variables: { [name]: "x" } } },
        new RegExp(`^aws-swarm:stack\\.variables\\.${name} is reserved \\([A-Za-z_*]+\\): it would change how`),
      ],
    ),
    [
      "gateway port used by swarm",
      { gateway: { port: 2377 } },
      /^aws-swarm:gateway\.port must not be 2377: the nodes use it for swarm cluster management$/,
    ],
    [
      "gateway port out of range",
      { gateway: { port: 0 } },
      /^aws-swarm:gateway\.port must be between 1 and 65535, got 0$/,
    ],
    [
      "bad public CIDR",
      { gateway: { publicCidrs: ["everyone"] } },
      /^aws-swarm:gateway\.publicCidrs\[0\] must be an IPv4 CIDR/,
    ],
    [
      "route with no service",
      { gateway: { routes: [{ path: "/hello", port: 8080 }] } },
      /^aws-swarm:gateway\.routes\[0\]\.service is required$/,
    ],
    [
      "route port above 65535",
      { gateway: { routes: [route({ port: 70000 })] } },
      /^aws-swarm:gateway\.routes\[0\]\.port must be between 1 and 65535, got 70000$/,
    ],
    [
      "route port 0",
      { gateway: { routes: [route({ port: 0 })] } },
      /^aws-swarm:gateway\.routes\[0\]\.port must be between 1 and 65535, got 0$/,
    ],
    [
      "route path without a slash",
      { gateway: { routes: [route({ path: "hello" })] } },
      /^aws-swarm:gateway\.routes\[0\]\.path \("hello"\) is not a plain URL path prefix: '\/' then letters/,
    ],
    [
      "route path with whitespace",
      { gateway: { routes: [route({ path: "/a b" })] } },
      /^aws-swarm:gateway\.routes\[0\]\.path \("\/a b"\) is not a plain URL path prefix/,
    ],
    [
      "route path with a quote (HAProxy's config syntax)",
      { gateway: { routes: [route({ path: '/a"b' })] } },
      /^aws-swarm:gateway\.routes\[0\]\.path \("\/a\\"b"\) is not a plain URL path prefix/,
    ],
    [
      "route path with a backslash",
      { gateway: { routes: [route({ path: "/a\\b" })] } },
      /^aws-swarm:gateway\.routes\[0\]\.path \("\/a\\\\b"\) is not a plain URL path prefix/,
    ],
    [
      "route paths that differ by a trailing slash",
      { gateway: { routes: [route({ path: "/api" }), route({ path: "/api/", service: "world" })] } },
      /^aws-swarm:gateway\.routes\[1\]\.path \(\/api\/\) is the same prefix as aws-swarm:gateway\.routes\[0\]\.path \(\/api\)/,
    ],
    [
      "a route to the gateway itself",
      { gateway: { routes: [route({ service: "gateway" })] } },
      /^aws-swarm:gateway\.routes\[0\]\.service must not be "gateway": the gateway would route requests to itself$/,
    ],
    [
      "routes that no client may reach",
      { gateway: { publicCidrs: [], routes: [route({})] } },
      /^aws-swarm:gateway\.publicCidrs is empty, so no client could reach the routes/,
    ],
    [
      "duplicate route paths",
      { gateway: { routes: [route({}), route({ service: "world" })] } },
      /^aws-swarm:gateway\.routes\[1\]\.path must be unique: "\/hello" is already used by aws-swarm:gateway\.routes\[0\]$/,
    ],
    [
      "placement naming a missing pool",
      { workerPools: [pool({})], gateway: { placement: "edge" } },
      /^aws-swarm:gateway\.placement names worker pool "edge", which does not exist; use one of: managers, app$/,
    ],
    [
      "placement on an empty pool",
      { workerPools: [pool({ count: 0 })], gateway: { placement: "app" } },
      /^aws-swarm:gateway\.placement names worker pool "app", which has count 0/,
    ],
    [
      "image context missing",
      { images: [{ name: "api", context: "images/api" }] },
      /^aws-swarm:images\[0\]\.context must name an existing directory relative to the project root/,
    ],
    [
      "Dockerfile missing",
      { images: [{ name: "web", context: "images/web", dockerfile: "Dockerfile.prod" }] },
      /^aws-swarm:images\[0\]\.dockerfile must name an existing file inside the build context images\/web/,
    ],
    [
      "duplicate image names",
      {
        images: [
          { name: "web", context: "images/web" },
          { name: "web", context: "images/web" },
        ],
      },
      /^aws-swarm:images\[1\]\.name must be unique/,
    ],
    [
      "image name with upper case",
      { images: [{ name: "Web", context: "images/web" }] },
      /^aws-swarm:images\[0\]\.name must be an ECR repository name/,
    ],
    [
      "image names sharing a variable",
      {
        images: [
          { name: "web-app", context: "images/web" },
          { name: "web.app", context: "images/web" },
        ],
      },
      /^aws-swarm:images\[1\]\.name \("web\.app"\) and aws-swarm:images\[0\]\.name \("web-app"\) would both set the stack variable WEB_APP_IMAGE$/,
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
      "pinned zone IDs that are not zone IDs",
      { availabilityZoneIds: ["us-east-1a"] },
      /^aws-swarm:availabilityZoneIds\[0\] must be an availability zone ID like use1-az1/,
    ],
    [
      "a zone ID pinned twice",
      { availabilityZoneIds: ["use1-az1", "use1-az1"] },
      /^aws-swarm:availabilityZoneIds must list 1 to 6 different zone IDs, got 2 \(use1-az1, use1-az1\)$/,
    ],
    [
      "a zone count that contradicts the pinned zones",
      { availabilityZones: 3, availabilityZoneIds: ["use1-az1", "use1-az2"] },
      /^aws-swarm:availabilityZones is 3, but aws-swarm:availabilityZoneIds pins 2 zones; unset it$/,
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
  ];

  it.each(badConfigs)("rejects %s", (_what, overrides, expected) => {
    const problems = problemsOf({ adminCidrs: ADMIN, ...overrides }, root);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it("checks that the default stack file and Dockerfile exist", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-empty-"));
    fs.mkdirSync(path.join(empty, "web"));
    try {
      expect(problemsOf({ adminCidrs: ADMIN, images: [{ name: "web", context: "web" }] }, empty)).toEqual([
        expect.stringMatching(
          /^aws-swarm:stack\.file must name an existing file relative to the project root; .*stacks\/app\.yml does not exist$/,
        ),
        expect.stringMatching(
          /^aws-swarm:images\[0\]\.dockerfile must name an existing file inside the build context web; .*web\/Dockerfile does not exist$/,
        ),
      ]);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it("rejects a stack name that cannot be the default cluster name, naming clusterName", () => {
    expect(problemsOf({ adminCidrs: ADMIN }, root, "Prod_EU")).toEqual([
      expect.stringMatching(
        /^aws-swarm:clusterName is not set, so it defaults to the stack name "Prod_EU", which is not a valid cluster name/,
      ),
    ]);
  });

  it("reports every problem of a config at once, in key order", () => {
    const raw = {
      vpcCidr: "10.0.0.1/16",
      adminCidrs: ["0.0.0.0/0"],
      managers: { count: 4 },
      workerPools: [pool({ labels: { "Bad Key": "x" } }), pool({})],
      swarm: { certExpiry: "1d" },
      gateway: { routes: [route({ service: undefined, port: 99999 })] },
      workerpool: [],
    };
    let error: unknown;
    try {
      parseConfig(raw, "dev", root);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems.map((p) => p.split(" ")[0])).toEqual([
      "aws-swarm:workerpool",
      "aws-swarm:vpcCidr",
      "aws-swarm:adminCidrs[0]",
      "aws-swarm:managers.count",
      'aws-swarm:workerPools[0].labels["Bad',
      "aws-swarm:workerPools[1].name",
      "aws-swarm:swarm.certExpiry",
      "aws-swarm:gateway.routes[0].service",
      "aws-swarm:gateway.routes[0].port",
    ]);
    expect(message).toMatch(
      /^Invalid aws-swarm configuration for stack "dev" \(9 problems\):\n {2}- aws-swarm:workerpool /,
    );
    for (const problem of problems) {
      expect(message).toContain(`\n  - ${problem}`);
    }
  });

  it("never echoes the private key, even when the pair is wrong", () => {
    const secret = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA";
    const problems = problemsOf({ adminCidrs: ADMIN, sshPrivateKey: secret, sshPublickey: secret }, root);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join("\n")).not.toContain("PRIVATE KEY");
  });
});

// ---------------------------------------------------------------------------------------------
// One source for every default: lib/defaults.ts, the parser and docs/configuration.md agree.

type DefaultName = keyof typeof defaults;

/** Keys table of docs/configuration.md: the constant behind each documented default. */
const CONFIG_DEFAULT: Record<string, DefaultName> = {
  vpcCidr: "DEFAULT_VPC_CIDR",
  availabilityZones: "DEFAULT_AVAILABILITY_ZONES",
  sshUser: "DEFAULT_SSH_USER",
  detailedMonitoring: "DEFAULT_DETAILED_MONITORING",
  "managers.count": "DEFAULT_MANAGER_COUNT",
  "managers.instanceType": "DEFAULT_INSTANCE_TYPE",
  "managers.volumeSize": "DEFAULT_VOLUME_SIZE",
  "workerPools[i].instanceType": "DEFAULT_INSTANCE_TYPE",
  "workerPools[i].volumeSize": "DEFAULT_VOLUME_SIZE",
  "swarm.taskHistoryLimit": "DEFAULT_TASK_HISTORY_LIMIT",
  "swarm.autolock": "DEFAULT_AUTOLOCK",
  "swarm.tokenGeneration": "DEFAULT_TOKEN_GENERATION",
  "swarm.reportDownAfter": "DEFAULT_REPORT_DOWN_AFTER",
  "swarm.encryptOverlay": "DEFAULT_ENCRYPT_OVERLAY",
  "swarm.certExpiry": "DEFAULT_CERT_EXPIRY",
  "swarm.defaultAddrPool": "DEFAULT_ADDR_POOL",
  "stack.name": "DEFAULT_STACK_NAME",
  "stack.file": "DEFAULT_STACK_FILE",
  "gateway.port": "DEFAULT_GATEWAY_PORT",
  "gateway.publicCidrs": "DEFAULT_GATEWAY_PUBLIC_CIDRS",
  "gateway.placement": "DEFAULT_GATEWAY_PLACEMENT",
  "images[i].dockerfile": "DEFAULT_DOCKERFILE",
};
/** Keys whose default is an empty list or map: nothing to name. */
const EMPTY_DEFAULT: Record<string, unknown> = {
  workerPools: [],
  "workerPools[i].labels": {},
  "stack.variables": {},
  "gateway.routes": [],
  images: [],
};
/** Built-in settings table of docs/configuration.md: the constant behind each value. */
const BUILT_IN: Record<string, DefaultName> = {
  "Gateway server slots per routed service": "DEFAULT_SLOTS",
  "Health path probed on every task of a routed service": "DEFAULT_SERVICE_HEALTH_PATH",
  "Gateway's own health path": "GATEWAY_HEALTH_PATH",
  "Deploy wait (seconds)": "DEFAULT_CONVERGE_TIMEOUT",
};

/**
 * The table under `## <heading>` in docs/configuration.md: first cell (without backticks) → the
 * cell in `column`. A cell that is all code (`` `2160h` ``, `` `["0.0.0.0/0"]` ``) is read as JSON
 * where it is JSON and as text otherwise; prose ("the stack name", "required") stays as written.
 */
function docsTable(heading: string, column: string): Map<string, { literal: boolean; value: unknown }> {
  const text = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "configuration.md"), "utf8");
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) {
    throw new Error(`docs/configuration.md has no section "## ${heading}"`);
  }
  const [header, ...rows] = text
    .slice(start + 1)
    .split("\n## ")[0]
    .split("\n")
    .filter((line) => line.startsWith("| ") && !line.startsWith("| ---"))
    .map((line) => line.slice(2, -2).split(" | "));
  const at = header.indexOf(column);
  if (at < 0) {
    throw new Error(`the table under "## ${heading}" has no column "${column}"`);
  }
  return new Map(
    rows.map((cells) => {
      const [name, cell] = [cells[0], cells[at]];
      const code = /^`([^`]*)`$/.exec(cell);
      const value = code === null ? { literal: false, value: cell } : { literal: true, value: jsonOrText(code[1]) };
      return [name.replace(/`/g, ""), value];
    }),
  );
}

function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The documented defaults that are values (not prose), by key. */
function documentedValues(heading: string, column: string): Record<string, unknown> {
  const cells = [...docsTable(heading, column)].filter(([, cell]) => cell.literal);
  return Object.fromEntries(cells.map(([key, cell]) => [key, cell.value]));
}

/** Dotted paths of a config's leaves; lists and empty maps are leaves. */
function leafKeys(value: unknown, prefix: string): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value) || Object.keys(value).length === 0) {
    return [prefix];
  }
  return Object.entries(value).flatMap(([key, child]) => leafKeys(child, prefix === "" ? key : `${prefix}.${key}`));
}

describe("defaults", () => {
  const named = (table: Record<string, DefaultName>) =>
    Object.fromEntries(Object.entries(table).map(([key, name]) => [key, defaults[name]]));

  it("the Keys table in docs/configuration.md states each default as its constant in lib/defaults.ts", () => {
    expect(documentedValues("Keys", "Default")).toEqual({ ...named(CONFIG_DEFAULT), ...EMPTY_DEFAULT });
  });

  it("the Built-in settings table in docs/configuration.md states each value as its constant", () => {
    expect(documentedValues("Built-in settings", "Value")).toEqual(named(BUILT_IN));
  });

  it("every constant in lib/defaults.ts is in one of the docs tables", () => {
    const documented = new Set([...Object.values(CONFIG_DEFAULT), ...Object.values(BUILT_IN)]);
    expect(Object.keys(defaults).sort()).toEqual([...documented].sort());
  });

  describe("parseConfig with only adminCidrs (plus one pool and one image for their item keys)", () => {
    let root: string;
    let base: ClusterConfig;
    let items: ClusterConfig;

    beforeAll(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-defaults-"));
      fs.mkdirSync(path.join(root, "stacks"));
      fs.writeFileSync(path.join(root, "stacks", "app.yml"), "services: {}\n");
      fs.mkdirSync(path.join(root, "web"));
      fs.writeFileSync(path.join(root, "web", "Dockerfile"), "FROM scratch\n");
      base = parseConfig({ adminCidrs: ADMIN }, "staging", root);
      items = parseConfig(
        { adminCidrs: ADMIN, workerPools: [{ name: "app", count: 1 }], images: [{ name: "web", context: "web" }] },
        "staging",
        root,
      );
    });
    afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

    const valueAt = (key: string): unknown =>
      key
        .replace(/\[i\]/g, ".0")
        .split(".")
        .reduce<unknown>((x, k) => (x as Record<string, unknown>)[k], key.includes("[i]") ? items : base);

    it("yields exactly the documented defaults", () => {
      const documented = documentedValues("Keys", "Default");
      expect(Object.fromEntries(Object.keys(documented).map((key) => [key, valueAt(key)]))).toEqual(documented);
    });

    it("yields no value the Keys table leaves out, except the manager group's fixed name and labels", () => {
      const keys = docsTable("Keys", "Default");
      const leaves = [
        ...leafKeys(base, ""),
        ...leafKeys(items.workerPools[0], "workerPools[i]"),
        ...leafKeys(items.images[0], "images[i]"),
      ];
      expect(leaves.filter((key) => !keys.has(key)).sort()).toEqual(["managers.labels", "managers.name"]);
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe("one rule set for config validation and the node scripts", () => {
  it("deploy-stack.sh refuses exactly the stack variables that validation refuses (lib/variables.ts)", () => {
    const script = fs.readFileSync(path.join(PROJECT_ROOT, "scripts", "deploy-stack.sh"), "utf8");
    const line = /case \$key in\n\s*(.+)\)\n\s*die "STACK_VARIABLES: \$key can't be used/.exec(script);
    expect(line).not.toBeNull();
    expect(line![1].split(" | ")).toEqual(RESERVED_VARIABLES);
  });
});

describe("layering", () => {
  /** lib/ files reached from `entries` through relative imports, the entries included. */
  function reachable(entries: string[]): Set<string> {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) {
        return;
      }
      seen.add(file);
      const text = fs.readFileSync(path.join(PROJECT_ROOT, "lib", file), "utf8");
      for (const [, name] of text.matchAll(/\b(?:from|import) "\.\/([^"]+)"/g)) {
        visit(`${name}.ts`);
      }
    };
    entries.forEach(visit);
    return seen;
  }

  it("config validation reaches neither the stack planner nor the HAProxy renderer", () => {
    const entries = fs.readdirSync(path.join(PROJECT_ROOT, "lib")).filter((f) => /^(config.*|validator)\.ts$/.test(f));
    const seen = reachable(entries);
    // The walk follows imports: lib/configSwarm.ts needs the image variable names.
    expect(seen).toContain("images.ts");
    expect(seen).not.toContain("stack.ts");
    expect(seen).not.toContain("haproxy.ts");
  });
});
