/** The VPC, availability zones, admin CIDRs, room for the nodes in the subnets, the overlay address pool. */
import { BadConfig, pool } from "./case";

export const networkCases: BadConfig[] = [
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
    "VPC smaller than a /24",
    { vpcCidr: "10.0.0.0/25" },
    /^aws-swarm:vpcCidr must have a prefix between \/16 and \/24, got 10\.0\.0\.0\/25$/,
  ],
  ["zero AZs", { availabilityZones: 0 }, /^aws-swarm:availabilityZones must be between 1 and 6, got 0$/],
  ["fractional AZs", { availabilityZones: 1.5 }, /^aws-swarm:availabilityZones must be an integer, got 1\.5$/],
  [
    "no zone ID pinned",
    { availabilityZoneIds: [] },
    /^aws-swarm:availabilityZoneIds must list 1 to 6 different zone IDs, got 0 \(\)$/,
  ],
  [
    "seven zone IDs pinned",
    { availabilityZoneIds: [1, 2, 3, 4, 5, 6, 7].map((n) => `use1-az${n}`) },
    /^aws-swarm:availabilityZoneIds must list 1 to 6 different zone IDs, got 7/,
  ],
  [
    "one zone ID as text instead of a list",
    { availabilityZoneIds: "use1-az1" },
    /^aws-swarm:availabilityZoneIds must be a list, got "use1-az1"; set items by index/,
  ],
  [
    "admin CIDRs that together open SSH to a large part of the internet",
    { adminCidrs: ["1.0.0.0/9", "2.0.0.0/9", "3.0.0.0/9"] },
    /^aws-swarm:adminCidrs together open SSH to 25165824 addresses, more than a \/8 \(16777216\), a large part of the internet/,
  ],
  [
    "admin CIDRs just over a /8 together, overlaps counted once",
    { adminCidrs: ["10.0.0.0/8", "10.0.0.0/9", "11.0.0.0/32"] },
    /^aws-swarm:adminCidrs together open SSH to 16777217 addresses/,
  ],
  [
    "admin address in TEST-NET-1",
    { adminCidrs: ["192.0.2.1/32"] },
    /^aws-swarm:adminCidrs\[0\] \(192\.0\.2\.1\/32\) is a documentation address \(RFC 5737\)/,
  ],
  [
    "admin CIDR as a number",
    { adminCidrs: [5] },
    /^aws-swarm:adminCidrs\[0\] must be an IPv4 CIDR such as 10\.0\.0\.0\/16, got 5$/,
  ],
  [
    "a /24 VPC with more nodes in one zone than its /28 subnet holds",
    { vpcCidr: "10.0.0.0/24", availabilityZones: 1, workerPools: [pool({ count: 11 })] },
    /^aws-swarm:vpcCidr \(10\.0\.0\.0\/24\) is too small for the nodes: each availability zone gets a \/28 subnet with 11 usable addresses \(AWS reserves 5\), but 12 nodes would be placed in one; use a \/23 or larger, or more availability zones$/,
  ],
  [
    "a /24 VPC over two zones: each group spreads on its own, so the first zone gets more",
    { vpcCidr: "10.0.0.0/24", managers: { count: 3 }, workerPools: [pool({ count: 19 })] },
    /^aws-swarm:vpcCidr \(10\.0\.0\.0\/24\) is too small for the nodes: .* but 12 nodes would be placed in one/,
  ],
  [
    "a /22 VPC in one zone with 62 nodes",
    {
      vpcCidr: "10.0.0.0/22",
      availabilityZones: 1,
      managers: { count: 7 },
      workerPools: [pool({ count: 50 }), pool({ name: "web", count: 5 })],
    },
    /^aws-swarm:vpcCidr \(10\.0\.0\.0\/22\) is too small for the nodes: each availability zone gets a \/26 subnet with 59 usable addresses \(AWS reserves 5\), but 62 nodes would be placed in one; use a \/21 or larger/,
  ],
  [
    "pinned zones count for the subnets too",
    { vpcCidr: "10.0.0.0/24", availabilityZoneIds: ["use1-az1"], workerPools: [pool({ count: 11 })] },
    /^aws-swarm:vpcCidr \(10\.0\.0\.0\/24\) is too small for the nodes/,
  ],
  [
    "overlay pool inside docker0",
    { swarm: { defaultAddrPool: "172.17.5.0/24" } },
    /^aws-swarm:swarm\.defaultAddrPool \(172\.17\.5\.0\/24\) overlaps 172\.17\.0\.0\/16, Docker's docker0 bridge/,
  ],
  [
    "overlay pool unaligned",
    { swarm: { defaultAddrPool: "10.200.0.1/16" } },
    /^aws-swarm:swarm\.defaultAddrPool is not aligned: 10\.200\.0\.1\/16 has host bits set; did you mean 10\.200\.0\.0\/16\?$/,
  ],
  [
    "overlay pool wider than a /8",
    { swarm: { defaultAddrPool: "10.0.0.0/7" } },
    /^aws-swarm:swarm\.defaultAddrPool must have a prefix between \/8 and \/24, got 10\.0\.0\.0\/7$/,
  ],
  [
    "overlay pool over a custom VPC",
    { vpcCidr: "172.20.0.0/16", swarm: { defaultAddrPool: "172.20.0.0/14" } },
    /^aws-swarm:swarm\.defaultAddrPool \(172\.20\.0\.0\/14\) overlaps aws-swarm:vpcCidr \(172\.20\.0\.0\/16\)/,
  ],
];
