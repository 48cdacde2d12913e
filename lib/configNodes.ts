/**
 * The nodes' part of the configuration: the cluster's name and network, who may reach the nodes
 * and how, and the node groups with their machines, labels and AMI. Each parser reports its
 * problems to the `Validator` and returns `undefined` when something in its section is invalid.
 */
import {
  DEFAULT_AVAILABILITY_ZONES,
  DEFAULT_GATEWAY_PLACEMENT,
  DEFAULT_INSTANCE_TYPE,
  DEFAULT_MANAGER_COUNT,
  DEFAULT_SSH_USER,
  DEFAULT_VOLUME_SIZE,
  DEFAULT_VPC_CIDR,
} from "./defaults";
import { addressCount, Cidr, cidrsOverlap, parseCidr } from "./cidr";
import { nodesInBusiestZone, subnetPrefix, usableAddresses } from "./plan";
import { MANAGER_GROUP_NAME, NAMESPACE, NodeGroupConfig } from "./types";
import { complete, Validator } from "./validator";

const MANAGER_COUNTS = [1, 3, 5, 7];
const CLUSTER_NAME_MAX = 28;
const POOL_NAME_MAX = 20;
const MIN_VOLUME_SIZE = 8;
const MAX_VOLUME_SIZE = 16384; // gp3 limit
const MAX_AVAILABILITY_ZONES = 6;
/** An admin network wider than a /8 is most likely a mistake for the whole internet. */
const MIN_ADMIN_PREFIX = 8;
/** ... and so are admin networks that together cover more than a /8. */
const MAX_ADMIN_ADDRESSES = 2 ** (32 - MIN_ADMIN_PREFIX);
/** Far above any real pool; a typo such as 100 for 10 must not start a hundred instances. */
const MAX_POOL_COUNT = 50;
/** Far above any real cluster: a pasted list must not start hundreds of instances. */
const MAX_POOLS = 10;
/**
 * A few hundred nodes is a large but real Swarm (Docker's own scale tests went to thousands); the
 * cap stops a runaway config, not a big cluster.
 */
const MAX_NODES = 500;
const RESERVED_LABEL_PREFIXES = ["com.docker.", "io.docker.", "org.dockerproject."];
/** Labels every node gets from aws-swarm itself; a user value would silently fight them. */
const AUTOMATIC_LABELS = ["pool", "role", "az", "instance-type"];
const AUTOMATIC_LABEL_PREFIX = "aws-swarm.";

export function parseClusterName(v: Validator, value: unknown, stackName: string): string | undefined {
  const key = `${NAMESPACE}:clusterName`;
  const rule = /^[a-z][a-z0-9-]*$/;
  const expected =
    `lower-case letters, digits and '-', starting with a letter, at most ${CLUSTER_NAME_MAX} characters` +
    " (it prefixes AWS resource names)";
  if (value === undefined) {
    if (rule.test(stackName) && stackName.length <= CLUSTER_NAME_MAX) {
      return stackName;
    }
    v.report(
      key,
      `is not set, so it defaults to the stack name "${stackName}", which is not a valid cluster name (${expected}); set ${key} explicitly`,
    );
    return undefined;
  }
  const name = v.pattern(value, key, rule, expected);
  return name === undefined ? undefined : v.maxLength(name, key, CLUSTER_NAME_MAX);
}

export function parseVpcCidr(v: Validator, value: unknown, key: string): string | undefined {
  return v.optional(value, key, DEFAULT_VPC_CIDR, (x, p) => v.cidr(x, p, { minPrefix: 16, maxPrefix: 24 }));
}

export function parseAvailabilityZones(v: Validator, value: unknown, key: string): number | undefined {
  return v.optional(value, key, DEFAULT_AVAILABILITY_ZONES, (x, p) => v.integer(x, p, 1, MAX_AVAILABILITY_ZONES));
}

/**
 * Pinned zone IDs (`use1-az1`): IDs, not names, because names are shuffled per account. With
 * them, `availabilityZones` is their count (setting both to different values is an error).
 */
export function parseAvailabilityZoneIds(
  v: Validator,
  value: unknown,
  key: string,
  zoneCount: { value: unknown; key: string },
): string[] | undefined {
  if (value === undefined) {
    return undefined;
  }
  const ids = v.list(value, key, (x, p) =>
    v.pattern(
      x,
      p,
      /^[a-z]{2,5}\d-az\d{1,2}$/,
      "an availability zone ID like use1-az1 (aws ec2 describe-availability-zones)",
    ),
  );
  if (ids === undefined) {
    return undefined;
  }
  if (ids.length < 1 || ids.length > MAX_AVAILABILITY_ZONES || new Set(ids).size !== ids.length) {
    v.report(key, `must list 1 to ${MAX_AVAILABILITY_ZONES} different zone IDs, got ${ids.length} (${ids.join(", ")})`);
    return undefined;
  }
  if (zoneCount.value !== undefined && zoneCount.value !== ids.length) {
    v.report(zoneCount.key, `is ${JSON.stringify(zoneCount.value)}, but ${key} pins ${ids.length} zones; unset it`);
    return undefined;
  }
  return ids;
}

export function parseSshUser(v: Validator, value: unknown, key: string): string | undefined {
  return v.optional(value, key, DEFAULT_SSH_USER, (x, p) =>
    v.pattern(
      x,
      p,
      /^[a-z_][a-z0-9_-]{0,31}$/,
      "a Linux user name: lower-case letters, digits, '_' and '-', not starting with a digit or '-', at most 32 characters",
    ),
  );
}

/** TEST-NET-1, -2 and -3 (RFC 5737): addresses reserved for examples, routed nowhere. */
const DOCUMENTATION_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].map((c) => parseCidr(c)!);

function isDocumentationRange(range: Cidr): boolean {
  return DOCUMENTATION_RANGES.some((doc) => range.prefix >= doc.prefix && cidrsOverlap(range, doc));
}

export function parseAdminCidrs(v: Validator, value: unknown, key: string): string[] | undefined {
  if (value === undefined) {
    v.report(
      key,
      "is required: the CIDRs allowed to SSH to the nodes, e.g. " +
        `pulumi config set --path 'adminCidrs[0]' "$(curl -s https://checkip.amazonaws.com)/32"`,
    );
    return undefined;
  }
  const cidrs = v.list(value, key, (x, p) => {
    const cidr = v.cidr(x, p);
    if (cidr === "0.0.0.0/0") {
      v.report(p, "must not be 0.0.0.0/0: SSH must not be open to the world; use your own address/32");
      return undefined;
    }
    const range = cidr === undefined ? undefined : parseCidr(cidr);
    const prefix = range?.prefix;
    if (prefix !== undefined && prefix < MIN_ADMIN_PREFIX) {
      v.report(
        p,
        `(${cidr}) opens SSH to ${2 ** (32 - prefix)} addresses, a large part of the internet; ` +
          `use your own address/32 or your network (at least /${MIN_ADMIN_PREFIX})`,
      );
      return undefined;
    }
    if (range !== undefined && isDocumentationRange(range)) {
      // The shipped stack files carry one as a placeholder: without this, `pulumi up` would
      // create everything and then spend minutes dialling nodes that drop its SSH packets.
      v.report(
        p,
        `(${cidr}) is a documentation address (RFC 5737) that no machine has, a placeholder: set your own, ` +
          `pulumi config set --path '${p.replace(/^[^:]*:/, "")}' "$(curl -s https://checkip.amazonaws.com)/32"`,
      );
      return undefined;
    }
    return cidr;
  });
  if (cidrs !== undefined && cidrs.length === 0) {
    v.report(key, "must list at least one CIDR allowed to SSH to the nodes");
    return undefined;
  }
  const together = cidrs === undefined ? 0 : addressCount(cidrs.map((c) => parseCidr(c)!));
  if (together > MAX_ADMIN_ADDRESSES) {
    v.report(
      key,
      `together open SSH to ${together} addresses, more than a /${MIN_ADMIN_PREFIX} (${MAX_ADMIN_ADDRESSES}), ` +
        "a large part of the internet; list only your own addresses or networks",
    );
    return undefined;
  }
  return cidrs;
}

/** Returns the trimmed public key when the pair is configured; the private key stays in Pulumi. */
export function parseSshKeyPair(v: Validator, publicKey: unknown, privateKey: unknown): string | undefined {
  const pubKey = `${NAMESPACE}:sshPublicKey`;
  const privKey = `${NAMESPACE}:sshPrivateKey`;
  const hasPrivate = typeof privateKey === "string" ? privateKey.trim() !== "" : privateKey !== undefined;
  if (publicKey === undefined && !hasPrivate) {
    return undefined;
  }
  if (publicKey === undefined) {
    v.report(pubKey, `is required when ${privKey} is set: set both, or neither to have a key pair generated`);
    return undefined;
  }
  // Only presence and type: the private key is a secret and never appears in a message.
  if (!hasPrivate) {
    v.report(
      privKey,
      `is required when ${pubKey} is set: pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519 ` +
        `(or unset ${pubKey} to have a key pair generated)`,
    );
  } else if (typeof privateKey !== "string") {
    v.report(privKey, "must be a string (the OpenSSH private key, set with --secret)");
  }
  return v.pattern(
    typeof publicKey === "string" ? publicKey.trim() : publicKey,
    pubKey,
    /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-[a-z0-9]+) [A-Za-z0-9+/]+={0,3}( [^\n]*)?$/,
    'an OpenSSH public key "ssh-ed25519|ssh-rsa|ecdsa-sha2-* <base64> [comment]" on one line, e.g. ~/.ssh/id_ed25519.pub',
  );
}

export function parseManagers(v: Validator, value: unknown, key: string): NodeGroupConfig | undefined {
  const obj = v.object(value ?? {}, key, ["count", "instanceType", "volumeSize"]);
  if (obj === undefined) {
    return undefined;
  }
  const count = v.optional(obj.count, `${key}.count`, DEFAULT_MANAGER_COUNT, (x, p) => {
    const n = v.integer(x, p, 0);
    if (n !== undefined && !MANAGER_COUNTS.includes(n)) {
      v.report(
        p,
        `must be 1, 3, 5 or 7, got ${n}: Raft needs a majority of managers for quorum, so an even count tolerates no more failures than one fewer, and more than 7 slows consensus`,
      );
      return undefined;
    }
    return n;
  });
  return complete({
    name: MANAGER_GROUP_NAME,
    count,
    ...parseMachine(v, obj, key),
    labels: {},
  });
}

/** instanceType and volumeSize, shared by managers and worker pools. */
function parseMachine(v: Validator, obj: Record<string, unknown>, key: string) {
  return {
    instanceType: v.optional(obj.instanceType, `${key}.instanceType`, DEFAULT_INSTANCE_TYPE, (x, p) =>
      v.pattern(x, p, /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/, "an EC2 instance type such as t3.small or m7g.large"),
    ),
    volumeSize: v.optional(obj.volumeSize, `${key}.volumeSize`, DEFAULT_VOLUME_SIZE, (x, p) =>
      v.integer(x, p, MIN_VOLUME_SIZE, MAX_VOLUME_SIZE, "GiB"),
    ),
  };
}

export function parseWorkerPools(v: Validator, value: unknown, key: string): NodeGroupConfig[] | undefined {
  if (Array.isArray(value) && value.length > MAX_POOLS) {
    v.report(key, `must list at most ${MAX_POOLS} pools, got ${value.length}`);
    return undefined;
  }
  return v.list(
    value ?? [],
    key,
    (x, p) => {
      const obj = v.object(x, p, ["name", "count", "instanceType", "volumeSize", "labels"]);
      if (obj === undefined) {
        return undefined;
      }
      return complete({
        name: v.required(obj.name, `${p}.name`, (y, q) => parsePoolName(v, y, q)),
        count: v.required(obj.count, `${p}.count`, (y, q) => v.integer(y, q, 0, MAX_POOL_COUNT)),
        ...parseMachine(v, obj, p),
        labels: v.optional(obj.labels, `${p}.labels`, {}, (y, q) => v.stringMap(y, q, labelKeyProblem)),
      });
    },
    "name",
  );
}

function parsePoolName(v: Validator, value: unknown, key: string): string | undefined {
  const name = v.pattern(
    value,
    key,
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
    "lower-case letters, digits and '-', starting and ending with a letter or digit",
  );
  if (name === MANAGER_GROUP_NAME || name === DEFAULT_GATEWAY_PLACEMENT) {
    // "managers" would make gateway.placement ambiguous; "manager" is the manager group's pool label.
    v.report(key, `must not be "${name}": it is reserved for the manager nodes`);
    return undefined;
  }
  return name === undefined ? undefined : v.maxLength(name, key, POOL_NAME_MAX);
}

/** Docker's recommended label-key format, minus the keys Docker and aws-swarm reserve. */
function labelKeyProblem(labelKey: string): string | undefined {
  if (!/^[a-z0-9]+([.-][a-z0-9]+)*$/.test(labelKey)) {
    return "is not a valid label key: label keys must be lower-case alphanumerics, '.' and '-', start and end with an alphanumeric, and have no consecutive '.' or '-' (e.g. type or com.example.tier)";
  }
  const reserved = RESERVED_LABEL_PREFIXES.find((prefix) => labelKey.startsWith(prefix));
  if (reserved !== undefined) {
    return `uses the prefix "${reserved}", which Docker reserves for its own labels`;
  }
  if (AUTOMATIC_LABELS.includes(labelKey) || labelKey.startsWith(AUTOMATIC_LABEL_PREFIX)) {
    return `is set by ${NAMESPACE} itself (${AUTOMATIC_LABELS.join(", ")} and the "${AUTOMATIC_LABEL_PREFIX}" prefix); choose another key`;
  }
  return undefined;
}

/** An AMI override; that it suits every node's architecture is checked by lib/region.ts. */
export function parseAmi(v: Validator, value: unknown, key: string): string | undefined {
  return v.pattern(value, key, /^ami-[0-9a-f]{8,17}$/, "an AMI id like ami-0123456789abcdef0");
}

/**
 * Checks across the node groups: not absurdly many nodes, and room for them in the subnets (each
 * zone's subnet is a sixteenth of the VPC, lib/plan.ts). Needs every group valid.
 */
export function checkNodeRoom(
  v: Validator,
  groups: NodeGroupConfig[],
  vpcCidr: string,
  zoneCount: number,
  keys: { workerPools: string; vpcCidr: string },
): void {
  const counts = groups.map((group) => group.count);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total > MAX_NODES) {
    v.report(
      keys.workerPools,
      `would make ${total} nodes with the managers, more than ${MAX_NODES}; lower the pools' counts`,
    );
    return;
  }
  const vpcPrefix = parseCidr(vpcCidr)!.prefix;
  const needed = nodesInBusiestZone(counts, zoneCount);
  const available = usableAddresses(subnetPrefix(vpcPrefix));
  if (needed > available) {
    let fits = vpcPrefix;
    while (usableAddresses(subnetPrefix(fits)) < needed) fits--;
    v.report(
      keys.vpcCidr,
      `(${vpcCidr}) is too small for the nodes: each availability zone gets a /${subnetPrefix(vpcPrefix)} subnet ` +
        `with ${available} usable addresses (AWS reserves 5), but ${needed} nodes would be placed in one; ` +
        `use a /${fits} or larger, or more availability zones`,
    );
  }
}
