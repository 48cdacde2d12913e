import * as path from "path";
import { parseConfig } from "../lib/config";
import { architecturesOf, checkArchitectureMix, chooseZones, pinZonesHint, RegionFacts } from "../lib/region";
import { ClusterConfig } from "../lib/types";

const ROOT = path.resolve(__dirname, "..");
const config = (raw: Record<string, unknown>): ClusterConfig =>
  parseConfig({ adminCidrs: ["81.2.69.0/24"], ...raw }, "t", ROOT);

// us-east-1 as one account sees it: use1-az3 (named us-east-1b here) offers no t3, m5 or m6i.
const US_EAST_1: RegionFacts = {
  zones: [
    { name: "us-east-1a", zoneId: "use1-az4" },
    { name: "us-east-1b", zoneId: "use1-az3" },
    { name: "us-east-1c", zoneId: "use1-az1" },
    { name: "us-east-1d", zoneId: "use1-az2" },
  ],
  offerings: {
    "use1-az4": ["t3.small", "m7g.large", "a1.large"],
    "use1-az3": ["m7g.large", "a1.large"],
    "use1-az1": ["t3.small", "m7g.large", "a1.large"],
    "use1-az2": ["t3.small", "m7g.large"],
  },
  architectures: {
    "t3.small": ["x86_64"],
    "m7g.large": ["arm64"],
    "a1.large": ["arm64"],
    "mac2.metal": ["arm64_mac"],
  },
};

describe("chooseZones", () => {
  it("skips a zone that lacks a configured instance type, keeping EC2's order", () => {
    const zones = chooseZones(config({ availabilityZones: 3 }), US_EAST_1);
    expect(zones.map((z) => z.zoneId)).toEqual(["use1-az4", "use1-az1", "use1-az2"]);
  });

  it("uses every type of every pool, a pool of count 0 included (it may grow)", () => {
    const spare = { availabilityZones: 2, workerPools: [{ name: "arm", count: 0, instanceType: "a1.large" }] };
    expect(chooseZones(config(spare), US_EAST_1).map((z) => z.zoneId)).toEqual(["use1-az4", "use1-az1"]);
  });

  it("refuses when too few zones offer every type, saying which zone lacks what", () => {
    expect(() => chooseZones(config({ availabilityZones: 4 }), US_EAST_1)).toThrow(
      "aws-swarm:availabilityZones is 4, but only 3 of the region's zones offer every configured instance type " +
        "(t3.small): us-east-1b (use1-az3) lacks t3.small; use fewer zones or other instance types",
    );
  });

  it("uses pinned zone IDs as given, in their order", () => {
    const zones = chooseZones(config({ availabilityZoneIds: ["use1-az2", "use1-az4"] }), US_EAST_1);
    expect(zones).toEqual([
      { name: "us-east-1d", zoneId: "use1-az2" },
      { name: "us-east-1a", zoneId: "use1-az4" },
    ]);
  });

  it("refuses a pinned zone the region doesn't have, or one that lacks a type", () => {
    expect(() => chooseZones(config({ availabilityZoneIds: ["use1-az9"] }), US_EAST_1)).toThrow(
      /^aws-swarm:availabilityZoneIds\[0\] use1-az9 is not an available zone of this region that needs no opt-in: use1-az4 \(us-east-1a\)/,
    );
    expect(() => chooseZones(config({ availabilityZoneIds: ["use1-az4", "use1-az3"] }), US_EAST_1)).toThrow(
      "aws-swarm:availabilityZoneIds[1] use1-az3 (us-east-1b) does not offer t3.small; pick another zone",
    );
  });
});

describe("pinZonesHint", () => {
  it("says how to pin an unpinned choice, and nothing once pinned", () => {
    const zones = chooseZones(config({}), US_EAST_1);
    expect(pinZonesHint(config({}), zones)).toBe(
      "availability zones: use1-az4 (us-east-1a), use1-az1 (us-east-1c). Pin them so that they can never shift " +
        "under the subnets: pulumi config set --path 'availabilityZoneIds[0]' use1-az4 && " +
        "pulumi config set --path 'availabilityZoneIds[1]' use1-az1",
    );
    expect(pinZonesHint(config({ availabilityZoneIds: ["use1-az4"] }), zones)).toBeUndefined();
  });
});

describe("architecturesOf", () => {
  it("reads each type's architecture from EC2, a1 (no g in its name) included", () => {
    const arm = { managers: { instanceType: "a1.large" }, workerPools: [{ name: "app", count: 1 }] };
    expect(architecturesOf(config(arm), US_EAST_1)).toEqual({ "a1.large": "arm64", "t3.small": "x86_64" });
  });

  it("refuses an instance type Ubuntu Server can't boot, naming the key", () => {
    const mac = { workerPools: [{ name: "build", count: 1, instanceType: "mac2.metal" }] };
    expect(() => architecturesOf(config(mac), US_EAST_1)).toThrow(
      "aws-swarm:workerPools[0].instanceType mac2.metal supports arm64_mac; the nodes run Ubuntu Server, which needs x86_64 or arm64",
    );
  });
});

describe("checkArchitectureMix", () => {
  const mixed = { workerPools: [{ name: "app", count: 2, instanceType: "m7g.large" }] };
  const archs = { "t3.small": "x86_64", "m7g.large": "arm64" } as const;

  it("allows a mix when nothing needs one architecture", () => {
    expect(() => checkArchitectureMix(config(mixed), archs)).not.toThrow();
  });

  it("refuses a mix with one AMI or with built images", () => {
    expect(() => checkArchitectureMix(config({ ...mixed, ami: "ami-0123456789abcdef0" }), archs)).toThrow(
      "aws-swarm:ami is set, but the nodes mix CPU architectures (x86_64: manager (t3.small); arm64: app (m7g.large))",
    );
    expect(() =>
      checkArchitectureMix(config({ ...mixed, images: [{ name: "echo", context: "services/echo" }] }), archs),
    ).toThrow(/^aws-swarm:images builds each image for one platform/);
  });

  it("ignores pools without nodes", () => {
    const idle = { workerPools: [{ name: "app", count: 0, instanceType: "m7g.large" }], ami: "ami-0123456789abcdef0" };
    expect(() => checkArchitectureMix(config(idle), archs)).not.toThrow();
  });
});
