/**
 * What the region says about zones and instance types, and the choices made from it before any
 * resource exists: which availability zones the subnets go in, and which CPU architecture (so
 * which AMI and image platform) each instance type needs. index.ts asks EC2; everything here is
 * pure and tested directly.
 */
import { Architecture } from "./plan";
import { ClusterConfig, NAMESPACE, NodeGroupConfig } from "./types";

export interface Zone {
  name: string;
  /** The same physical zone in every account (names are shuffled per account). */
  zoneId: string;
}

export interface RegionFacts {
  /**
   * The region's available zones that need no opt-in (no Local or Wavelength Zones), in the
   * order EC2 lists them.
   */
  zones: Zone[];
  /** Zone ID → the configured instance types EC2 offers there (`getInstanceTypeOfferings`). */
  offerings: Record<string, string[]>;
  /** Instance type → the architectures EC2 says it supports (`getInstanceType`). */
  architectures: Record<string, string[]>;
}

/** The instance type and config key of every node group, pools of count 0 included (they may grow). */
function groupsOf(config: ClusterConfig): { key: string; group: NodeGroupConfig }[] {
  return [
    { key: "managers", group: config.managers },
    ...config.workerPools.map((group, i) => ({ key: `workerPools[${i}]`, group })),
  ];
}

/** Every configured instance type, once. */
export function instanceTypesOf(config: ClusterConfig): string[] {
  return [...new Set(groupsOf(config).map(({ group }) => group.instanceType))];
}

function missingTypes(facts: RegionFacts, zoneId: string, types: string[]): string[] {
  const offered = new Set(facts.offerings[zoneId] ?? []);
  return types.filter((type) => !offered.has(type));
}

/**
 * The zones for the subnets. Pinned zone IDs (`availabilityZoneIds`) are used as given, once each
 * is checked; otherwise the first `availabilityZones` zones, in EC2's order, that offer every
 * configured instance type (in us-east-1 one zone offers no t3, m5 or m6i). Pinning matters:
 * a zone that later closes or stops offering a type would shift the unpinned choice, and the
 * shift would replace subnets (their zone can't change) with nodes in them.
 */
export function chooseZones(config: ClusterConfig, facts: RegionFacts): Zone[] {
  const types = instanceTypesOf(config);
  if (config.availabilityZoneIds !== undefined) {
    return config.availabilityZoneIds.map((zoneId, i) => pinnedZone(facts, zoneId, i, types));
  }
  const eligible = facts.zones.filter((zone) => missingTypes(facts, zone.zoneId, types).length === 0);
  if (eligible.length < config.availabilityZones) {
    const excluded = facts.zones
      .filter((zone) => !eligible.includes(zone))
      .map((zone) => `${zone.name} (${zone.zoneId}) lacks ${missingTypes(facts, zone.zoneId, types).join(", ")}`);
    throw new Error(
      `${NAMESPACE}:availabilityZones is ${config.availabilityZones}, but only ${eligible.length} of the region's ` +
        `zones offer every configured instance type (${types.join(", ")})` +
        (excluded.length > 0 ? `: ${excluded.join("; ")}` : "") +
        "; use fewer zones or other instance types",
    );
  }
  return eligible.slice(0, config.availabilityZones);
}

function pinnedZone(facts: RegionFacts, zoneId: string, i: number, types: string[]): Zone {
  const key = `${NAMESPACE}:availabilityZoneIds[${i}]`;
  const zone = facts.zones.find((z) => z.zoneId === zoneId);
  if (zone === undefined) {
    const known = facts.zones.map((z) => `${z.zoneId} (${z.name})`).join(", ");
    throw new Error(`${key} ${zoneId} is not an available zone of this region that needs no opt-in: ${known}`);
  }
  const missing = missingTypes(facts, zoneId, types);
  if (missing.length > 0) {
    throw new Error(`${key} ${zoneId} (${zone.name}) does not offer ${missing.join(", ")}; pick another zone`);
  }
  return zone;
}

/** How to pin an unpinned choice, for `pulumi.log.info`; undefined when already pinned. */
export function pinZonesHint(config: ClusterConfig, zones: Zone[]): string | undefined {
  if (config.availabilityZoneIds !== undefined) {
    return undefined;
  }
  const list = zones.map((z) => `${z.zoneId} (${z.name})`).join(", ");
  const commands = zones.map((z, i) => `pulumi config set --path 'availabilityZoneIds[${i}]' ${z.zoneId}`).join(" && ");
  return `availability zones: ${list}. Pin them so that they can never shift under the subnets: ${commands}`;
}

/**
 * The architecture of each configured instance type, from what EC2 says it supports (a family
 * name can't tell: a1 is arm64 without a `g`). Mac instances and anything else Ubuntu's server
 * AMIs can't boot are refused, naming the key.
 */
export function architecturesOf(config: ClusterConfig, facts: RegionFacts): Record<string, Architecture> {
  const result: Record<string, Architecture> = {};
  for (const { key, group } of groupsOf(config)) {
    const supported = facts.architectures[group.instanceType] ?? [];
    if (supported.includes("x86_64")) {
      result[group.instanceType] = "x86_64";
    } else if (supported.includes("arm64")) {
      result[group.instanceType] = "arm64";
    } else {
      throw new Error(
        `${NAMESPACE}:${key}.instanceType ${group.instanceType} supports ${supported.join(", ") || "no known architecture"}; ` +
          "the nodes run Ubuntu Server, which needs x86_64 or arm64",
      );
    }
  }
  return result;
}

/**
 * A cluster may mix architectures, but then one AMI (`ami`) can't boot every node, and the
 * images built from `images` (one platform per build) can't run on every node: both refused.
 */
export function checkArchitectureMix(config: ClusterConfig, architectures: Record<string, Architecture>): void {
  const byArch = new Map<Architecture, string[]>();
  for (const { group } of groupsOf(config).filter(({ group }) => group.count > 0)) {
    const arch = architectures[group.instanceType];
    byArch.set(arch, [...(byArch.get(arch) ?? []), `${group.name} (${group.instanceType})`]);
  }
  if (byArch.size < 2) {
    return;
  }
  const mix = [...byArch].map(([arch, names]) => `${arch}: ${names.join(", ")}`).join("; ");
  if (config.ami !== undefined) {
    throw new Error(
      `${NAMESPACE}:ami is set, but the nodes mix CPU architectures (${mix}) and one AMI cannot boot both; ` +
        "unset it or use one architecture",
    );
  }
  if (config.images.length > 0) {
    throw new Error(
      `${NAMESPACE}:images builds each image for one platform, but the nodes mix CPU architectures (${mix}); ` +
        "use one architecture, or build multi-platform images yourself and name them in stack.variables",
    );
  }
}
