/**
 * The configuration contract: every `aws-swarm:*` key is read once (`loadConfig`), validated once
 * (`parseConfig`), and every problem is reported together in one `ConfigError` before any resource
 * is registered. Each problem names the key as a user would type it with
 * `pulumi config set --path`, so the fix is one copy-paste away.
 */
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
import { cidrsOverlap, parseCidr } from "./cidr";
import { complete, describe, goDurationSeconds, Validator } from "./validator";
import { architectureOf } from "./plan";
import { imageVariableName } from "./stack";

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
    defaultAddrPool: parseAddrPool(v, obj.defaultAddrPool, at("defaultAddrPool"), vpcCidr),
  });
}

function parseAddrPool(v: Validator, value: unknown, key: string, vpcCidr: string | undefined): string | undefined {
  const pool = v.optional(value, key, DEFAULT_ADDR_POOL, (x, p) =>
    // Each overlay network takes a /24 from the pool, so the pool must be at least that big.
    v.cidr(x, p, { minPrefix: 8, maxPrefix: 24 }),
  );
  const [poolRange, vpcRange] = [pool, vpcCidr].map((c) => (c === undefined ? undefined : parseCidr(c)));
  if (poolRange !== undefined && vpcRange !== undefined && cidrsOverlap(poolRange, vpcRange)) {
    v.report(
      key,
      `(${pool}${value === undefined ? ", the default" : ""}) overlaps ${NAMESPACE}:vpcCidr (${vpcCidr}): ` +
        "overlay networks would shadow the nodes' own addresses; pick a range outside the VPC",
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
  const imageVariables = new Set(
    rawImageNames(imagesValue).flatMap((name) => (name === undefined ? [] : [imageVariableName(name)])),
  );
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

/** "web-app" and "web.app" are distinct repositories but would both publish WEB_APP_IMAGE. */
function checkImageVariables(v: Validator, value: unknown, key: string): void {
  const names = rawImageNames(value);
  const firstByVariable = new Map<string, number>();
  names.forEach((name, i) => {
    if (name === undefined) {
      return;
    }
    const variable = imageVariableName(name);
    const first = firstByVariable.get(variable);
    if (first === undefined) {
      firstByVariable.set(variable, i);
    } else if (names[first] !== name) {
      // (identical names are reported as duplicates)
      v.report(
        `${key}[${i}].name`,
        `("${name}") and ${key}[${first}].name ("${names[first]}") would both set the stack variable ${variable}`,
      );
    }
  });
}

/** The `name` of each raw `images` item (by position), before validation. */
function rawImageNames(images: unknown): (string | undefined)[] {
  return Array.isArray(images)
    ? images.map((image) => {
        const name = (image as Record<string, unknown> | null)?.name;
        return typeof name === "string" ? name : undefined;
      })
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
  const images = v.list(value ?? [], key, (x, p) => {
    const obj = v.object(x, p, ["name", "context", "dockerfile"]);
    if (obj === undefined) {
      return undefined;
    }
    const name = v.required(obj.name, `${p}.name`, (y, q) => {
      const text = v.pattern(
        y,
        q,
        /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/,
        "an ECR repository name: lower-case letters and digits separated by single '.', '_', '-' or '/'",
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
  checkImageVariables(v, value, key);
  return images;
}

// ---------------------------------------------------------------------------------------------
// Shared checks. Each reports problems against the key path it is given and returns the value
// when valid, `undefined` otherwise.
