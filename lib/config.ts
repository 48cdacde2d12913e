/**
 * The configuration contract: every `aws-swarm:*` key is read once (`loadConfig`), validated once
 * (`parseConfig`), and every problem is reported together in one `ConfigError` before any resource
 * is registered. Each problem names the key as a user would type it with
 * `pulumi config set --path`, so the fix is one copy-paste away. The shape of the result is in
 * lib/types.ts, the defaults in lib/defaults.ts, the section parsers in lib/configNodes.ts and
 * lib/configSwarm.ts.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
  checkNodeRoom,
  parseAdminCidrs,
  parseAmi,
  parseAvailabilityZoneIds,
  parseAvailabilityZones,
  parseClusterName,
  parseManagers,
  parseSshKeyPair,
  parseSshUser,
  parseVpcCidr,
  parseWorkerPools,
} from "./configNodes";
import { parseStacks, resolveRoutes } from "./configStacks";
import { parseGateway, parseImages, parseSwarm } from "./configSwarm";
import { DEFAULT_DETAILED_MONITORING } from "./defaults";
import { ClusterConfig, NAMESPACE } from "./types";
import { complete, Validator } from "./validator";

/**
 * Top-level keys and how their values arrive from Pulumi. Every value reaches the program as a
 * string; `string` keys are used as-is, `json` keys are JSON-decoded (objects, lists, numbers).
 */
const TOP_LEVEL_KEYS = {
  clusterName: "string",
  vpcCidr: "string",
  availabilityZones: "json",
  availabilityZoneIds: "json",
  adminCidrs: "json",
  sshUser: "string",
  sshPublicKey: "string",
  sshPrivateKey: "string",
  managers: "json",
  workerPools: "json",
  swarm: "json",
  stacks: "json",
  stack: "json",
  gateway: "json",
  images: "json",
  ami: "string",
  detailedMonitoring: "json",
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
    config.sshPublicKey === undefined ? undefined : new pulumi.Config(NAMESPACE).requireSecret("sshPrivateKey");
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
export function parseConfig(raw: Record<string, unknown>, stackName: string, projectRoot: string): ClusterConfig {
  const v = new Validator();
  const root = `${NAMESPACE}:`;
  const at = (key: TopLevelKey) => `${root}${key}`;
  v.knownKeys(raw, Object.keys(TOP_LEVEL_KEYS), (key) => `${root}${key}`);
  reportNulCharacters(v, raw, root);

  const clusterName = parseClusterName(v, raw.clusterName, stackName);
  const vpcCidr = parseVpcCidr(v, raw.vpcCidr, at("vpcCidr"));
  const zoneIds = parseAvailabilityZoneIds(v, raw.availabilityZoneIds, at("availabilityZoneIds"), {
    value: raw.availabilityZones,
    key: at("availabilityZones"),
  });
  const availabilityZones =
    zoneIds?.length ?? parseAvailabilityZones(v, raw.availabilityZones, at("availabilityZones"));
  const adminCidrs = parseAdminCidrs(v, raw.adminCidrs, at("adminCidrs"));
  const sshUser = parseSshUser(v, raw.sshUser, at("sshUser"));
  const sshPublicKey = parseSshKeyPair(v, raw.sshPublicKey, raw.sshPrivateKey);
  const managers = parseManagers(v, raw.managers, at("managers"));
  const workerPools = parseWorkerPools(v, raw.workerPools, at("workerPools"));
  const swarm = parseSwarm(v, raw.swarm, at("swarm"), vpcCidr);
  const parsedStacks = parseStacks(
    v,
    { stacks: raw.stacks, stack: raw.stack },
    { stacks: at("stacks"), stack: at("stack") },
    projectRoot,
    raw.images,
  );
  const parsedGateway = parseGateway(v, raw.gateway, at("gateway"), workerPools);
  const gateway = parsedGateway && {
    ...parsedGateway,
    routes: resolveRoutes(v, parsedGateway.routes, `${at("gateway")}.routes`, parsedStacks?.services ?? new Map()),
  };
  const images = parseImages(v, raw.images, at("images"), projectRoot);
  const detailedMonitoring = v.optional(
    raw.detailedMonitoring,
    at("detailedMonitoring"),
    DEFAULT_DETAILED_MONITORING,
    (x, p) => v.boolean(x, p),
  );
  const ami = raw.ami === undefined ? undefined : parseAmi(v, raw.ami, at("ami"));
  if (managers !== undefined && workerPools !== undefined && vpcCidr !== undefined && availabilityZones !== undefined) {
    checkNodeRoom(v, [managers, ...workerPools], vpcCidr, availabilityZones, {
      workerPools: at("workerPools"),
      vpcCidr: at("vpcCidr"),
    });
  }

  const config = complete({
    clusterName,
    vpcCidr,
    availabilityZones,
    adminCidrs,
    sshUser,
    managers,
    workerPools,
    swarm,
    stacks: parsedStacks?.stacks,
    gateway,
    images,
    detailedMonitoring,
  });
  if (v.problems.length > 0 || config === undefined) {
    throw new ConfigError(v.problems, stackName);
  }
  return {
    ...config,
    ...(sshPublicKey !== undefined && { sshPublicKey }),
    ...(ami !== undefined && { ami }),
    ...(zoneIds !== undefined && { availabilityZoneIds: zoneIds }),
  };
}

/**
 * A NUL character in any string (a value or a map key) is refused wherever it is: C strings end
 * there, so the node scripts, Docker and the AWS API would each see a different value.
 */
function reportNulCharacters(v: Validator, value: unknown, key: string): void {
  if (typeof value === "string") {
    if (value.includes("\0")) v.report(key, "must not contain a NUL character");
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => reportNulCharacters(v, item, `${key}[${i}]`));
  } else if (value !== null && typeof value === "object") {
    for (const [name, item] of Object.entries(value)) {
      if (name.includes("\0")) v.report(key, "must not have a key containing a NUL character");
      reportNulCharacters(v, item, key.endsWith(":") ? `${key}${name}` : `${key}.${name}`);
    }
  }
}
