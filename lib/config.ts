/**
 * The configuration contract: every `aws-swarm:*` key is read once (`loadConfig`), validated once
 * (`parseConfig`), and every problem is reported together in one `ConfigError` before any resource
 * is registered. Each problem names the key as a user would type it with
 * `pulumi config set --path`, so the fix is one copy-paste away.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
  ClusterConfig,
  GatewayConfig,
  GatewayRoute,
  ImageConfig,
  NodeGroupConfig,
  StackConfig,
  SwarmSettings,
} from "./types";
import { cidrsOverlap, formatCidr, parseCidr } from "./cidr";
import { architectureOf } from "./plan";

/** The config namespace; the project name in Pulumi.yaml. */
export const NAMESPACE = "aws-swarm";

export const DEFAULT_VPC_CIDR = "10.0.0.0/16";
export const DEFAULT_AVAILABILITY_ZONES = 2;
export const DEFAULT_SSH_USER = "ubuntu";
export const DEFAULT_MANAGER_COUNT = 1;
export const DEFAULT_INSTANCE_TYPE = "t3.small";
/** GiB; Docker images and container logs live on the root volume. */
export const DEFAULT_VOLUME_SIZE = 20;
/** Swarm's own default is 5; 2 keeps a rollback target without filling disks with dead tasks. */
export const DEFAULT_TASK_HISTORY_LIMIT = 2;
export const DEFAULT_AUTOLOCK = false;
export const DEFAULT_ENCRYPT_OVERLAY = false;
/** Docker's own default node-certificate validity (90 days). */
export const DEFAULT_CERT_EXPIRY = "2160h";
/** Outside 10.0.0.0/16 and Docker's 10.0.0.0/8 default pool, which would overlap the VPC. */
export const DEFAULT_ADDR_POOL = "10.128.0.0/12";
export const DEFAULT_STACK_NAME = "app";
export const DEFAULT_STACK_FILE = "stacks/app.yml";
export const DEFAULT_GATEWAY_PORT = 80;
export const DEFAULT_GATEWAY_PUBLIC_CIDRS: readonly string[] = ["0.0.0.0/0"];
export const DEFAULT_GATEWAY_PLACEMENT = "managers";
export const DEFAULT_DOCKERFILE = "Dockerfile";

/** The manager group's name in `NodeGroupConfig.name`; reserved for worker pools. */
export const MANAGER_GROUP_NAME = "manager";

const MANAGER_COUNTS = [1, 3, 5, 7];
const CLUSTER_NAME_MAX = 28;
const POOL_NAME_MAX = 20;
const MIN_VOLUME_SIZE = 8;
const MAX_VOLUME_SIZE = 16384; // gp3 limit
const MAX_AVAILABILITY_ZONES = 6;
const MIN_CERT_EXPIRY_SECONDS = 3600; // `docker swarm update --cert-expiry` refuses less than 1h
/** Ports the nodes already use: SSH and the swarm control/gossip/VXLAN ports. */
const RESERVED_PORTS: Record<number, string> = {
  22: "SSH",
  2377: "swarm cluster management",
  7946: "swarm node gossip",
  4789: "swarm overlay (VXLAN) traffic",
};
const RESERVED_LABEL_PREFIXES = ["com.docker.", "io.docker.", "org.dockerproject."];
/** Labels every node gets from aws-swarm itself; a user value would silently fight them. */
const AUTOMATIC_LABELS = ["pool", "role", "az", "instance-type"];
const AUTOMATIC_LABEL_PREFIX = "aws-swarm.";

/**
 * Top-level keys and how their values arrive from Pulumi. Every value reaches the program as a
 * string; `string` keys are used as-is, `json` keys are JSON-decoded (objects, lists, numbers).
 */
const TOP_LEVEL_KEYS = {
  clusterName: "string",
  vpcCidr: "string",
  availabilityZones: "json",
  adminCidrs: "json",
  sshUser: "string",
  sshPublicKey: "string",
  sshPrivateKey: "string",
  managers: "json",
  workerPools: "json",
  swarm: "json",
  stack: "json",
  gateway: "json",
  images: "json",
  ami: "string",
} as const;
type TopLevelKey = keyof typeof TOP_LEVEL_KEYS;

/** Every problem of one stack's configuration; thrown once by `parseConfig`. */
export class ConfigError extends Error {
  constructor(
    public readonly problems: string[],
    stackName: string,
  ) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(
      `Invalid ${NAMESPACE} configuration for stack "${stackName}" (${count}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

export interface LoadedConfig {
  config: ClusterConfig;
  /** Set exactly when `config.sshPublicKey` is; always a secret. */
  sshPrivateKey?: pulumi.Output<string>;
}

/**
 * Reads the stack's `aws-swarm:*` configuration and validates it. Call once, before any resource
 * is registered; throws `ConfigError` listing every problem.
 */
export function loadConfig(): LoadedConfig {
  const prefix = `${NAMESPACE}:`;
  const raw: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (fullKey.startsWith(prefix)) {
      const key = fullKey.slice(prefix.length);
      raw[key] = decodeConfigValue(key, value);
    }
  }
  // lib/ sits directly under the project root. pulumi.runtime.getRootDirectory() is not usable:
  // under mocks it returns the placeholder "rootDirectory".
  const projectRoot = path.resolve(__dirname, "..");
  const config = parseConfig(raw, pulumi.getStack(), projectRoot);
  const sshPrivateKey =
    config.sshPublicKey === undefined
      ? undefined
      : new pulumi.Config(NAMESPACE).requireSecret("sshPrivateKey");
  return { config, sshPrivateKey };
}

/**
 * Pulumi hands every value over as a string: objects and lists as JSON, top-level scalars as
 * their text (`availabilityZones: 3` arrives as "3"). Keys typed as strings stay verbatim so
 * that e.g. a cluster named "123" is not turned into a number.
 */
function decodeConfigValue(key: string, value: string): unknown {
  if (TOP_LEVEL_KEYS[key as TopLevelKey] === "string") {
    return value;
  }
  try {
    return JSON.parse(value);
  } catch {
    return value; // reported as a type error by parseConfig, quoting what the user wrote
  }
}

/**
 * Applies defaults to the raw `aws-swarm:*` values (keys without the namespace, values already
 * JSON-decoded) and validates them. Throws one `ConfigError` listing every problem. Reads the
 * file system only to check that referenced files exist under `projectRoot`.
 */
export function parseConfig(
  raw: Record<string, unknown>,
  stackName: string,
  projectRoot: string,
): ClusterConfig {
  const v = new Validator();
  const root = `${NAMESPACE}:`;
  const at = (key: TopLevelKey) => `${root}${key}`;
  v.knownKeys(raw, Object.keys(TOP_LEVEL_KEYS), (key) => `${root}${key}`);

  const clusterName = parseClusterName(v, raw.clusterName, stackName);
  const vpcCidr = v.optional(raw.vpcCidr, at("vpcCidr"), DEFAULT_VPC_CIDR, (x, p) =>
    v.cidr(x, p, { minPrefix: 16, maxPrefix: 24 }),
  );
  const availabilityZones = v.optional(
    raw.availabilityZones,
    at("availabilityZones"),
    DEFAULT_AVAILABILITY_ZONES,
    (x, p) => v.integer(x, p, 1, MAX_AVAILABILITY_ZONES),
  );
  const adminCidrs = parseAdminCidrs(v, raw.adminCidrs, at("adminCidrs"));
  const sshUser = v.optional(raw.sshUser, at("sshUser"), DEFAULT_SSH_USER, (x, p) =>
    v.pattern(
      x,
      p,
      /^[a-z_][a-z0-9_-]{0,31}$/,
      "a Linux user name: lower-case letters, digits, '_' and '-', not starting with a digit or '-', at most 32 characters",
    ),
  );
  const sshPublicKey = parseSshKeyPair(v, raw.sshPublicKey, raw.sshPrivateKey);
  const managers = parseManagers(v, raw.managers, at("managers"));
  const workerPools = parseWorkerPools(v, raw.workerPools, at("workerPools"));
  const swarm = parseSwarm(v, raw.swarm, at("swarm"), vpcCidr);
  const stack = parseStack(v, raw.stack, at("stack"), projectRoot, raw.images);
  const gateway = parseGateway(v, raw.gateway, at("gateway"), workerPools);
  const images = parseImages(v, raw.images, at("images"), projectRoot);
  const ami = raw.ami === undefined ? undefined : parseAmi(v, raw.ami, at("ami"), managers, workerPools);

  const config = complete({
    clusterName,
    vpcCidr,
    availabilityZones,
    adminCidrs,
    sshUser,
    managers,
    workerPools,
    swarm,
    stack,
    gateway,
    images,
  });
  if (v.problems.length > 0 || config === undefined) {
    throw new ConfigError(v.problems, stackName);
  }
  return {
    ...config,
    ...(sshPublicKey !== undefined && { sshPublicKey }),
    ...(ami !== undefined && { ami }),
  };
}

// ---------------------------------------------------------------------------------------------
// Sections. Each returns `undefined` when something in it is invalid (the problem is recorded).

/** One AMI serves every node, so all node groups must share its CPU architecture. */
function parseAmi(
  v: Validator,
  value: unknown,
  key: string,
  managers: NodeGroupConfig | undefined,
  workerPools: NodeGroupConfig[] | undefined,
): string | undefined {
  const ami = v.pattern(value, key, /^ami-[0-9a-f]{8,17}$/, "an AMI id like ami-0123456789abcdef0");
  const groups = [managers, ...(workerPools ?? [])].filter(
    (g): g is NodeGroupConfig => g !== undefined && g.count > 0,
  );
  const byArch = new Map<string, string[]>();
  for (const group of groups) {
    const arch = architectureOf(group.instanceType);
    byArch.set(arch, [...(byArch.get(arch) ?? []), `${group.name} (${group.instanceType})`]);
  }
  if (ami !== undefined && byArch.size > 1) {
    const mix = [...byArch].map(([arch, names]) => `${arch}: ${names.join(", ")}`).join("; ");
    v.report(
      key,
      `is set, but the nodes mix CPU architectures (${mix}) and one AMI cannot boot both; unset it or use one architecture`,
    );
    return undefined;
  }
  return ami;
}

function parseClusterName(v: Validator, value: unknown, stackName: string): string | undefined {
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

function parseAdminCidrs(v: Validator, value: unknown, key: string): string[] | undefined {
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
    return cidr;
  });
  if (cidrs !== undefined && cidrs.length === 0) {
    v.report(key, "must list at least one CIDR allowed to SSH to the nodes");
    return undefined;
  }
  return cidrs;
}

/** Returns the trimmed public key when the pair is configured; the private key stays in Pulumi. */
function parseSshKeyPair(v: Validator, publicKey: unknown, privateKey: unknown): string | undefined {
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

function parseManagers(v: Validator, value: unknown, key: string): NodeGroupConfig | undefined {
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

function parseWorkerPools(v: Validator, value: unknown, key: string): NodeGroupConfig[] | undefined {
  return v.list(value ?? [], key, (x, p) => {
    const obj = v.object(x, p, ["name", "count", "instanceType", "volumeSize", "labels"]);
    if (obj === undefined) {
      return undefined;
    }
    return complete({
      name: v.required(obj.name, `${p}.name`, (y, q) => parsePoolName(v, y, q)),
      count: v.required(obj.count, `${p}.count`, (y, q) => v.integer(y, q, 0)),
      ...parseMachine(v, obj, p),
      labels: v.optional(obj.labels, `${p}.labels`, {}, (y, q) => v.stringMap(y, q, labelKeyProblem)),
    });
  }, "name");
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

function parseSwarm(
  v: Validator,
  value: unknown,
  key: string,
  vpcCidr: string | undefined,
): SwarmSettings | undefined {
  const fields = ["taskHistoryLimit", "autolock", "encryptOverlay", "certExpiry", "defaultAddrPool"];
  const obj = v.object(value ?? {}, key, fields);
  if (obj === undefined) {
    return undefined;
  }
  const at = (field: string) => `${key}.${field}`;
  return complete({
    taskHistoryLimit: v.optional(obj.taskHistoryLimit, at("taskHistoryLimit"), DEFAULT_TASK_HISTORY_LIMIT, (x, p) =>
      v.integer(x, p, 0, 100),
    ),
    autolock: v.optional(obj.autolock, at("autolock"), DEFAULT_AUTOLOCK, (x, p) => v.boolean(x, p)),
    encryptOverlay: v.optional(obj.encryptOverlay, at("encryptOverlay"), DEFAULT_ENCRYPT_OVERLAY, (x, p) =>
      v.boolean(x, p),
    ),
    certExpiry: v.optional(obj.certExpiry, at("certExpiry"), DEFAULT_CERT_EXPIRY, (x, p) => parseCertExpiry(v, x, p)),
    defaultAddrPool: v.optional(obj.defaultAddrPool, at("defaultAddrPool"), DEFAULT_ADDR_POOL, (x, p) =>
      parseAddrPool(v, x, p, vpcCidr),
    ),
  });
}

function parseAddrPool(v: Validator, value: unknown, key: string, vpcCidr: string | undefined): string | undefined {
  // Each overlay network takes a /24 from the pool, so the pool must be at least that big.
  const pool = v.cidr(value, key, { minPrefix: 8, maxPrefix: 24 });
  const [poolRange, vpcRange] = [pool, vpcCidr].map((c) => (c === undefined ? undefined : parseCidr(c)));
  if (poolRange !== undefined && vpcRange !== undefined && cidrsOverlap(poolRange, vpcRange)) {
    v.report(
      key,
      `(${pool}) overlaps ${NAMESPACE}:vpcCidr (${vpcCidr}): overlay networks would shadow the nodes' own ` +
        "addresses; pick a range outside the VPC",
    );
    return undefined;
  }
  return pool;
}

function parseCertExpiry(v: Validator, value: unknown, key: string): string | undefined {
  const text = v.string(value, key, "a Go duration such as 2160h");
  if (text === undefined) {
    return undefined;
  }
  const seconds = goDurationSeconds(text);
  if (seconds === undefined) {
    v.report(key, `must be a Go duration such as 2160h or 720h30m, got ${describe(text)}`);
    return undefined;
  }
  if (seconds < MIN_CERT_EXPIRY_SECONDS) {
    v.report(key, `must be at least 1h (Docker's minimum), got ${describe(text)}`);
    return undefined;
  }
  return text;
}

function parseStack(
  v: Validator,
  value: unknown,
  key: string,
  projectRoot: string,
  imagesValue: unknown,
): StackConfig | undefined {
  const obj = v.object(value ?? {}, key, ["name", "file", "variables"]);
  if (obj === undefined) {
    return undefined;
  }
  const imageVariables = new Set(rawImageNames(imagesValue).map(imageVariableName));
  return complete({
    name: v.optional(obj.name, `${key}.name`, DEFAULT_STACK_NAME, (x, p) => dockerName(v, x, p, "stack")),
    file: v.optional(obj.file, `${key}.file`, DEFAULT_STACK_FILE, (x, p) =>
      v.existingPath(x, p, projectRoot, "file", "relative to the project root"),
    ),
    variables: v.optional(obj.variables, `${key}.variables`, {}, (x, p) =>
      v.stringMap(x, p, (name) => {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
          return "is not a valid variable name: letters, digits and '_', not starting with a digit";
        }
        if (imageVariables.has(name)) {
          return `is set from a built image (${NAMESPACE}:images) and cannot be overridden here`;
        }
        return undefined;
      }),
    ),
  });
}

/**
 * The compose variable a built image is published under: `<NAME>_IMAGE`, upper-cased, '-' → '_'.
 * Image names are restricted so that this is always a valid variable name.
 */
export function imageVariableName(imageName: string): string {
  return `${imageName.toUpperCase().replace(/-/g, "_")}_IMAGE`;
}

function rawImageNames(images: unknown): string[] {
  return Array.isArray(images)
    ? images
        .map((image) => (image as Record<string, unknown> | null)?.name)
        .filter((name): name is string => typeof name === "string")
    : [];
}

/** Stack and service names: what `docker stack deploy` accepts without renaming. */
function dockerName(v: Validator, value: unknown, key: string, what: string): string | undefined {
  return v.pattern(
    value,
    key,
    /^[a-z0-9][a-z0-9_-]*$/,
    `a ${what} name: lower-case letters, digits, '-' and '_', starting with a letter or digit`,
  );
}

function parseGateway(
  v: Validator,
  value: unknown,
  key: string,
  workerPools: NodeGroupConfig[] | undefined,
): GatewayConfig | undefined {
  const obj = v.object(value ?? {}, key, ["port", "publicCidrs", "placement", "routes"]);
  if (obj === undefined) {
    return undefined;
  }
  const port = v.optional(obj.port, `${key}.port`, DEFAULT_GATEWAY_PORT, (x, p) => {
    const n = v.integer(x, p, 1, 65535);
    if (n !== undefined && n in RESERVED_PORTS) {
      v.report(p, `must not be ${n}: the nodes use it for ${RESERVED_PORTS[n]}`);
      return undefined;
    }
    return n;
  });
  const publicCidrs = v.optional(obj.publicCidrs, `${key}.publicCidrs`, [...DEFAULT_GATEWAY_PUBLIC_CIDRS], (x, p) =>
    v.list(x, p, (y, q) => v.cidr(y, q)),
  );
  const placement = v.optional(obj.placement, `${key}.placement`, DEFAULT_GATEWAY_PLACEMENT, (x, p) =>
    parsePlacement(v, x, p, workerPools),
  );
  const routes = v.list(obj.routes ?? [], `${key}.routes`, (x, p) => parseRoute(v, x, p), "path");
  return complete({ port, publicCidrs, placement, routes });
}

function parsePlacement(
  v: Validator,
  value: unknown,
  key: string,
  workerPools: NodeGroupConfig[] | undefined,
): string | undefined {
  const placement = v.string(value, key, `"${DEFAULT_GATEWAY_PLACEMENT}" or a worker pool name`);
  if (placement === undefined || placement === DEFAULT_GATEWAY_PLACEMENT || workerPools === undefined) {
    // With invalid pools we cannot tell; the pool problems are already reported.
    return placement;
  }
  const pool = workerPools.find((p) => p.name === placement);
  const choices = [DEFAULT_GATEWAY_PLACEMENT, ...workerPools.filter((p) => p.count > 0).map((p) => p.name)];
  if (pool === undefined) {
    v.report(key, `names worker pool "${placement}", which does not exist; use one of: ${choices.join(", ")}`);
    return undefined;
  }
  if (pool.count === 0) {
    v.report(
      key,
      `names worker pool "${placement}", which has count 0, so no node would run the gateway; ` +
        `use one of: ${choices.join(", ")}`,
    );
    return undefined;
  }
  return placement;
}

function parseRoute(v: Validator, value: unknown, key: string): GatewayRoute | undefined {
  const obj = v.object(value, key, ["path", "service", "port"]);
  if (obj === undefined) {
    return undefined;
  }
  return complete({
    path: v.required(obj.path, `${key}.path`, (x, p) =>
      v.pattern(x, p, /^\/\S*$/, 'a URL path prefix starting with "/" and without whitespace, e.g. /hello'),
    ),
    service: v.required(obj.service, `${key}.service`, (x, p) => dockerName(v, x, p, "service")),
    port: v.required(obj.port, `${key}.port`, (x, p) => v.integer(x, p, 1, 65535)),
  });
}

function parseImages(v: Validator, value: unknown, key: string, projectRoot: string): ImageConfig[] | undefined {
  return v.list(value ?? [], key, (x, p) => {
    const obj = v.object(x, p, ["name", "context", "dockerfile"]);
    if (obj === undefined) {
      return undefined;
    }
    const name = v.required(obj.name, `${p}.name`, (y, q) => {
      const text = v.pattern(
        y,
        q,
        // Stricter than ECR ('.' and '/' are allowed there): the name becomes a compose variable.
        /^[a-z0-9]+([_-][a-z0-9]+)*$/,
        "an image name: lower-case letters and digits, separated by single '-' or '_' (it names the ECR repository and the stack variable <NAME>_IMAGE)",
      );
      return text === undefined ? undefined : v.maxLength(text, q, 256);
    });
    const context = v.required(obj.context, `${p}.context`, (y, q) =>
      v.existingPath(y, q, projectRoot, "directory", "relative to the project root"),
    );
    const dockerfile = v.optional(obj.dockerfile, `${p}.dockerfile`, DEFAULT_DOCKERFILE, (y, q) =>
      // Without a valid context there is nowhere to look; the context problem is reported.
      context === undefined
        ? v.string(y, q, "a file name")
        : v.existingPath(y, q, path.resolve(projectRoot, context), "file", `inside the build context ${context}`),
    );
    return complete({ name, context, dockerfile });
  }, "name");
}

// ---------------------------------------------------------------------------------------------
// Shared checks. Each reports problems against the key path it is given and returns the value
// when valid, `undefined` otherwise.

type Reader<T> = (value: unknown, key: string) => T | undefined;

class Validator {
  readonly problems: string[] = [];

  report(key: string, message: string): void {
    this.problems.push(`${key} ${message}`);
  }

  /** A key that may be absent, falling back to `fallback` (a documented default). */
  optional<T>(value: unknown, key: string, fallback: T, read: Reader<T>): T | undefined {
    return value === undefined ? fallback : read(value, key);
  }

  required<T>(value: unknown, key: string, read: Reader<T>): T | undefined {
    if (value === undefined) {
      this.report(key, "is required");
      return undefined;
    }
    return read(value, key);
  }

  string(value: unknown, key: string, expected: string): string | undefined {
    if (typeof value !== "string") {
      this.report(key, `must be ${expected}, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  pattern(value: unknown, key: string, rule: RegExp, expected: string): string | undefined {
    const text = this.string(value, key, expected);
    if (text !== undefined && !rule.test(text)) {
      this.report(key, `must be ${expected}, got ${describe(text)}`);
      return undefined;
    }
    return text;
  }

  maxLength(text: string, key: string, max: number): string | undefined {
    if (text.length > max) {
      this.report(key, `must be at most ${max} characters, got ${text.length} (${describe(text)})`);
      return undefined;
    }
    return text;
  }

  integer(value: unknown, key: string, min: number, max = Infinity, unit = ""): number | undefined {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.report(key, `must be an integer, got ${describe(value)}`);
      return undefined;
    }
    if (value < min || value > max) {
      const suffix = unit ? ` ${unit}` : "";
      const range = max === Infinity ? `at least ${min}` : `between ${min} and ${max}`;
      this.report(key, `must be ${range}${suffix}, got ${value}`);
      return undefined;
    }
    return value;
  }

  boolean(value: unknown, key: string): boolean | undefined {
    if (typeof value !== "boolean") {
      this.report(key, `must be true or false, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  /** An IPv4 CIDR whose address is the network address (AWS rejects host bits). */
  cidr(value: unknown, key: string, prefixRange?: { minPrefix: number; maxPrefix: number }): string | undefined {
    const text = this.string(value, key, "an IPv4 CIDR such as 10.0.0.0/16");
    if (text === undefined) {
      return undefined;
    }
    const cidr = parseCidr(text);
    if (cidr === undefined) {
      const aligned = alignedCidr(text);
      this.report(
        key,
        aligned === undefined
          ? `must be an IPv4 CIDR such as 10.0.0.0/16, got ${describe(text)}`
          : `is not aligned: ${text} has host bits set; did you mean ${aligned}?`,
      );
      return undefined;
    }
    if (prefixRange && (cidr.prefix < prefixRange.minPrefix || cidr.prefix > prefixRange.maxPrefix)) {
      this.report(key, `must have a prefix between /${prefixRange.minPrefix} and /${prefixRange.maxPrefix}, got ${text}`);
      return undefined;
    }
    return text;
  }

  existingPath(
    value: unknown,
    key: string,
    base: string,
    kind: "file" | "directory",
    where: string,
  ): string | undefined {
    const relative = this.string(value, key, `a path to a ${kind} ${where}`);
    if (relative === undefined) {
      return undefined;
    }
    const full = path.resolve(base, relative);
    const stat = fs.statSync(full, { throwIfNoEntry: false });
    const found = kind === "file" ? stat?.isFile() : stat?.isDirectory();
    if (!found) {
      this.report(key, `must name an existing ${kind} ${where}; ${full} ${stat ? `is not a ${kind}` : "does not exist"}`);
      return undefined;
    }
    return relative;
  }

  /** A plain object; `keys` are the only ones allowed in it. */
  object(value: unknown, key: string, keys: string[]): Record<string, unknown> | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.report(key, `must be an object with the keys ${keys.join(", ")}, got ${describe(value)}`);
      return undefined;
    }
    const obj = value as Record<string, unknown>;
    this.knownKeys(obj, keys, (name) => childKey(key, name));
    return obj;
  }

  knownKeys(obj: Record<string, unknown>, keys: string[], keyPath: (name: string) => string): void {
    for (const name of Object.keys(obj)) {
      if (!keys.includes(name)) {
        const guess = closest(name, keys);
        this.report(
          keyPath(name),
          `is not a known key; ${guess ? `did you mean ${guess}?` : `known keys: ${keys.join(", ")}`}`,
        );
      }
    }
  }

  /**
   * A list whose items are all valid, or `undefined`; every item's problems are reported.
   * `uniqueField` names a field of the items that must not repeat.
   */
  list<T>(value: unknown, key: string, readItem: Reader<T>, uniqueField?: string): T[] | undefined {
    if (!Array.isArray(value)) {
      // A common slip: `pulumi config set adminCidrs 1.2.3.4/32` stores a string, not a list.
      const hint =
        typeof value === "string"
          ? `; set items by index: pulumi config set --path '${key.slice(NAMESPACE.length + 1)}[0]' …`
          : "";
      this.report(key, `must be a list, got ${describe(value)}${hint}`);
      return undefined;
    }
    const items = value.map((item, i) => readItem(item, `${key}[${i}]`));
    if (uniqueField !== undefined) {
      this.unique(value, key, uniqueField);
    }
    return complete(items);
  }

  /**
   * A map of string values (labels, variables), or `undefined`. `keyProblem` explains why a key
   * is refused. Numbers and booleans are accepted as their text: `pulumi config set --path`
   * stores "2" and "true" as a number and a boolean.
   */
  stringMap(
    value: unknown,
    key: string,
    keyProblem: (name: string) => string | undefined,
  ): Record<string, string> | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.report(key, `must be an object (key: value pairs), got ${describe(value)}`);
      return undefined;
    }
    const entries = Object.entries(value).map(([name, x]) => {
      const entryKey = childKey(key, name);
      const problem = keyProblem(name);
      if (problem !== undefined) {
        this.report(entryKey, problem);
        return undefined;
      }
      const text = typeof x === "number" || typeof x === "boolean" ? String(x) : this.string(x, entryKey, "a string");
      if (text !== undefined && /[\r\n]/.test(text)) {
        this.report(entryKey, "must not contain a newline");
        return undefined;
      }
      return text === undefined ? undefined : ([name, text] as const);
    });
    const valid = complete(entries);
    return valid === undefined ? undefined : Object.fromEntries(valid);
  }

  /**
   * Reports every item whose `field` repeats an earlier one. Reads the raw items, so a duplicate
   * is reported even when something else in the item is wrong too.
   */
  private unique(items: unknown[], key: string, field: string): void {
    const seen = new Map<unknown, number>();
    items.forEach((item, i) => {
      const name = typeof item === "object" && item !== null ? (item as Record<string, unknown>)[field] : undefined;
      if (typeof name !== "string") {
        return;
      }
      const first = seen.get(name);
      if (first === undefined) {
        seen.set(name, i);
      } else {
        this.report(`${key}[${i}].${field}`, `must be unique: "${name}" is already used by ${key}[${first}]`);
      }
    });
  }
}

/**
 * The key of `name` inside `parent` in `pulumi config set --path` syntax. Keys with '.', spaces
 * and the like need the bracket form, or Pulumi would split them into nested keys.
 */
function childKey(parent: string, name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) ? `${parent}.${name}` : `${parent}[${JSON.stringify(name)}]`;
}

/** The network CIDR of an address/prefix with host bits set ("10.0.0.1/16" → "10.0.0.0/16"). */
function alignedCidr(text: string): string | undefined {
  const [address, prefixText] = text.split("/");
  const host = parseCidr(`${address}/32`);
  const prefix = Number(prefixText);
  if (host === undefined || !/^\d{1,2}$/.test(prefixText ?? "") || prefix > 32) {
    return undefined;
  }
  return formatCidr({ base: host.base - (host.base % 2 ** (32 - prefix)), prefix });
}

/** The value as the user wrote it, shortened: error messages must stay one readable line. */
function describe(value: unknown): string {
  if (value === null) {
    return "null";
  }
  if (Array.isArray(value)) {
    return "a list";
  }
  if (typeof value === "object") {
    return "an object";
  }
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The candidate a user probably meant: same letters ignoring case, or at most 2 edits away. */
function closest(name: string, candidates: string[]): string | undefined {
  const scored = candidates
    .map((c) => ({ c, d: c.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, c) }))
    .sort((a, b) => a.d - b.d);
  return scored.length > 0 && scored[0].d <= 2 ? scored[0].c : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Returns `fields` when none is undefined, else undefined. Lets sections keep full typing: a
 * section is only assembled from values that all passed validation.
 */
function complete<T extends object>(fields: T): { [K in keyof T]: Exclude<T[K], undefined> } | undefined {
  return Object.values(fields).every((x) => x !== undefined)
    ? (fields as { [K in keyof T]: Exclude<T[K], undefined> })
    : undefined;
}

// ---------------------------------------------------------------------------------------------
// Go durations.

const GO_DURATION_UNITS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  "µs": 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/** Seconds in a Go `time.ParseDuration` string (unsigned), or undefined when it is not one. */
function goDurationSeconds(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) {
    return undefined;
  }
  let seconds = 0;
  for (const [, amount, , unit] of text.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    seconds += Number(amount) * GO_DURATION_UNITS[unit];
  }
  return seconds;
}
