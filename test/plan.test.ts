import { cidrsOverlap, formatCidr, parseCidr, subnetOf } from "../lib/cidr";
import { planNodes, planSubnets } from "../lib/plan";
import { planSecurityRules } from "../lib/securityRules";
import { ClusterConfig } from "../lib/types";

describe("cidr", () => {
  it.each([
    ["10.0.0.0/16", true],
    ["10.0.0.1/16", false],
    ["10.0.0.0/33", false],
    ["256.0.0.0/8", false],
    ["10.0.0/16", false],
    ["0.0.0.0/0", true],
  ])("parses %s: %s", (text, valid) => {
    expect(parseCidr(text) !== undefined).toBe(valid);
  });

  it("round-trips and splits", () => {
    const vpc = parseCidr("10.0.0.0/16")!;
    expect(formatCidr(vpc)).toBe("10.0.0.0/16");
    expect(formatCidr(subnetOf(vpc, 20, 0))).toBe("10.0.0.0/20");
    expect(formatCidr(subnetOf(vpc, 20, 15))).toBe("10.0.240.0/20");
    expect(() => subnetOf(vpc, 20, 16)).toThrow(/no subnet #16/);
  });

  it("detects overlap", () => {
    const a = parseCidr("10.0.0.0/16")!;
    expect(cidrsOverlap(a, parseCidr("10.0.255.0/24")!)).toBe(true);
    expect(cidrsOverlap(a, parseCidr("10.1.0.0/16")!)).toBe(false);
    expect(cidrsOverlap(parseCidr("10.128.0.0/12")!, parseCidr("10.0.0.0/8")!)).toBe(true);
  });
});

describe("planSubnets", () => {
  it("gives each AZ a sixteenth of the VPC, without overlap", () => {
    const plan = planSubnets("10.0.0.0/16", ["a", "b", "c"]);
    expect(plan).toEqual([
      { index: 0, az: "a", cidr: "10.0.0.0/20" },
      { index: 1, az: "b", cidr: "10.0.16.0/20" },
      { index: 2, az: "c", cidr: "10.0.32.0/20" },
    ]);
    expect(planSubnets("192.168.1.0/24", ["a", "b"]).map((s) => s.cidr)).toEqual(["192.168.1.0/28", "192.168.1.16/28"]);
  });
});

const base: ClusterConfig = {
  clusterName: "t",
  vpcCidr: "10.0.0.0/16",
  availabilityZones: 3,
  adminCidrs: ["198.51.100.0/24"],
  sshUser: "ubuntu",
  detailedMonitoring: false,
  managers: { name: "manager", count: 3, instanceType: "t3.small", volumeSize: 20, labels: {} },
  workerPools: [
    { name: "infra", count: 1, instanceType: "t3.small", volumeSize: 20, labels: { type: "low-memory" } },
    { name: "app", count: 4, instanceType: "m7g.large", volumeSize: 30, labels: {} },
  ],
  swarm: {
    taskHistoryLimit: 2,
    autolock: false,
    encryptOverlay: true,
    certExpiry: "2160h",
    defaultAddrPool: "10.128.0.0/12",
    tokenGeneration: 0,
    reportDownAfter: 300,
  },
  stacks: [{ name: "app", file: "stacks/app.yml", variables: {} }],
  gateway: {
    port: 80,
    publicCidrs: ["0.0.0.0/0"],
    routes: [],
    placement: "infra",
    accessLog: "errors",
    image: "haproxy:3.2",
    loadBalancer: false,
  },
  images: [],
};

describe("planNodes", () => {
  const subnets = planSubnets(base.vpcCidr, ["a", "b", "c"]);
  const nodes = planNodes(base, subnets, { "t3.small": "x86_64", "m7g.large": "arm64" });

  it("lists managers first, then pools in order, with stable keys", () => {
    expect(nodes.map((n) => n.key)).toEqual([
      "manager-0",
      "manager-1",
      "manager-2",
      "infra-0",
      "app-0",
      "app-1",
      "app-2",
      "app-3",
    ]);
  });

  it("spreads every group round-robin on its own", () => {
    expect(nodes.filter((n) => n.role === "manager").map((n) => n.az)).toEqual(["a", "b", "c"]);
    expect(nodes.filter((n) => n.pool === "app").map((n) => n.az)).toEqual(["a", "b", "c", "a"]);
  });

  it("adds the automatic labels and marks the gateway pool", () => {
    expect(nodes.find((n) => n.key === "infra-0")!.labels).toEqual({
      type: "low-memory",
      pool: "infra",
      role: "worker",
      az: "a",
      "instance-type": "t3.small",
      "aws-swarm.gateway": "true",
    });
    expect(nodes.find((n) => n.key === "manager-1")!.labels["aws-swarm.gateway"]).toBeUndefined();
  });

  it("marks the nodes of the gateway pool, and only those, as running the gateway", () => {
    expect(nodes.filter((n) => n.runsGateway).map((n) => n.key)).toEqual(["infra-0"]);
  });

  it("gives every node the architecture of its instance type", () => {
    expect(nodes.map((n) => n.architecture)).toEqual([...Array(4).fill("x86_64"), ...Array(4).fill("arm64")]);
  });
});

describe("planSecurityRules", () => {
  const rules = planSecurityRules({
    adminCidrs: ["198.51.100.0/24"],
    encryptOverlay: true,
    gatewayPort: 8443,
    gatewayCidrs: ["0.0.0.0/0"],
  });

  it("opens ESP between members when overlays are encrypted, and only then", () => {
    expect(rules.find((r) => r.key === "swarm-esp")).toMatchObject({ protocol: "50", source: { group: "cluster" } });
    const plain = planSecurityRules({
      adminCidrs: ["198.51.100.0/24"],
      encryptOverlay: false,
      gatewayPort: 80,
      gatewayCidrs: [],
    });
    expect(plain.find((r) => r.key === "swarm-esp")).toBeUndefined();
  });

  it("lets nothing but the gateway port in from the internet", () => {
    const open = rules.filter((r) => r.direction === "ingress" && "cidr" in r.source && r.source.cidr === "0.0.0.0/0");
    expect(open.map((r) => [r.group, r.protocol, r.fromPort, r.toPort])).toEqual([["gateway", "tcp", 8443, 8443]]);
  });

  it("has unique keys and a description on every rule", () => {
    expect(new Set(rules.map((r) => r.key)).size).toBe(rules.length);
    expect(rules.every((r) => r.description.length > 10)).toBe(true);
  });
});
