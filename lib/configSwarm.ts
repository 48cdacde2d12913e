/**
 * The workload's part of the configuration: swarm settings, the stack and its variables, the
 * gateway and its routes, and the images to build. Each parser reports its problems to the
 * `Validator` and returns `undefined` when something in its section is invalid.
 */
import * as path from "path";
import { cidrsOverlap, parseCidr } from "./cidr";
import {
  DEFAULT_ADDR_POOL,
  DEFAULT_AUTOLOCK,
  DEFAULT_CERT_EXPIRY,
  DEFAULT_DOCKERFILE,
  DEFAULT_ENCRYPT_OVERLAY,
  DEFAULT_GATEWAY_ACCESS_LOG,
  DEFAULT_GATEWAY_IMAGE,
  DEFAULT_GATEWAY_PLACEMENT,
  DEFAULT_GATEWAY_PORT,
  DEFAULT_GATEWAY_PUBLIC_CIDRS,
  DEFAULT_TASK_HISTORY_LIMIT,
  DEFAULT_REPORT_DOWN_AFTER,
  DEFAULT_TOKEN_GENERATION,
} from "./defaults";
import { parseFrontDoor } from "./configFrontDoor";
import { rawImageNames, routeService } from "./configStacks";
import { certExpiryProblem } from "./durations";
import { imageVariableName } from "./images";
import { ownPathProblem, prefixClashes, routePathProblem } from "./routes";
import { SSH_PORT, SWARM_GOSSIP_PORT, SWARM_MANAGEMENT_PORT, SWARM_VXLAN_PORT } from "./securityRules";
import {
  GatewayAccessLog,
  GatewayConfig,
  GatewayRoute,
  ImageConfig,
  NAMESPACE,
  NodeGroupConfig,
  SwarmSettings,
} from "./types";
import { complete, Validator } from "./validator";

/** Ports the nodes already use: SSH and the swarm control/gossip/VXLAN ports. */
const RESERVED_PORTS: Record<number, string> = {
  [SSH_PORT]: "SSH",
  [SWARM_MANAGEMENT_PORT]: "swarm cluster management",
  [SWARM_GOSSIP_PORT]: "swarm node gossip",
  [SWARM_VXLAN_PORT]: "swarm overlay (VXLAN) traffic",
};

export function parseSwarm(
  v: Validator,
  value: unknown,
  key: string,
  vpcCidr: string | undefined,
): SwarmSettings | undefined {
  const fields = [
    "taskHistoryLimit",
    "autolock",
    "encryptOverlay",
    "certExpiry",
    "defaultAddrPool",
    "tokenGeneration",
    "reportDownAfter",
  ];
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
    tokenGeneration: v.optional(obj.tokenGeneration, at("tokenGeneration"), DEFAULT_TOKEN_GENERATION, (x, p) =>
      v.integer(x, p, 0),
    ),
    reportDownAfter: v.optional(obj.reportDownAfter, at("reportDownAfter"), DEFAULT_REPORT_DOWN_AFTER, (x, p) =>
      v.integer(x, p, 0, 86400),
    ),
  });
}

/** The local bridges Docker creates on every node (its defaults). */
const DOCKER_BRIDGES: [string, string][] = [
  ["172.17.0.0/16", "docker0 bridge"],
  ["172.18.0.0/16", "docker_gwbridge (swarm's bridge for overlay traffic)"],
];

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
  const bridge = DOCKER_BRIDGES.find(([cidr]) => poolRange !== undefined && cidrsOverlap(poolRange, parseCidr(cidr)!));
  if (bridge !== undefined) {
    v.report(
      key,
      `(${pool}) overlaps ${bridge[0]}, Docker's ${bridge[1]} on every node: containers could not reach ` +
        "addresses in both; pick a range outside 172.17.0.0/16 and 172.18.0.0/16",
    );
    return undefined;
  }
  return pool;
}

function parseCertExpiry(v: Validator, value: unknown, key: string): string | undefined {
  const text = v.string(value, key, "a Go duration such as 2160h");
  const problem = text === undefined ? undefined : certExpiryProblem(text);
  if (problem !== undefined) {
    v.report(key, problem);
    return undefined;
  }
  return text;
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

const GATEWAY_ACCESS_LOGS: readonly GatewayAccessLog[] = ["errors", "all"];

export function parseGateway(
  v: Validator,
  value: unknown,
  key: string,
  workerPools: NodeGroupConfig[] | undefined,
): GatewayConfig | undefined {
  const obj = v.object(value ?? {}, key, [
    "port",
    "publicCidrs",
    "placement",
    "image",
    "accessLog",
    "routes",
    "loadBalancer",
    "domain",
    "hostedZone",
  ]);
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
  const image = v.optional(obj.image, `${key}.image`, DEFAULT_GATEWAY_IMAGE, (x, p) =>
    v.pattern(x, p, /^[a-z0-9][A-Za-z0-9._/:@-]*$/, "an image reference, e.g. haproxy:3.2"),
  );
  const accessLog = v.optional(obj.accessLog, `${key}.accessLog`, DEFAULT_GATEWAY_ACCESS_LOG, (x, p) =>
    v.oneOf(x, p, GATEWAY_ACCESS_LOGS),
  );
  const routes = v.list(obj.routes ?? [], `${key}.routes`, (x, p) => parseRoute(v, x, p), "path");
  if (routes !== undefined) {
    checkRoutes(v, routes, `${key}.routes`, publicCidrs, `${key}.publicCidrs`);
  }
  const frontDoor = parseFrontDoor(v, obj, key);
  const gateway = complete({ port, publicCidrs, placement, image, accessLog, routes });
  return gateway && frontDoor && { ...gateway, ...frontDoor };
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

/** What the HAProxy renderer would refuse (lib/routes.ts), and routes no client could reach. */
function checkRoutes(
  v: Validator,
  routes: GatewayRoute[],
  key: string,
  publicCidrs: string[] | undefined,
  cidrsKey: string,
): void {
  const clashes = prefixClashes(routes.map((r) => r.path));
  routes.forEach((route, i) => {
    const earlier = clashes.get(i);
    // The very same path is already reported by the list's uniqueness check.
    if (earlier !== undefined && routes[earlier].path !== route.path) {
      v.report(
        `${key}[${i}].path`,
        `(${route.path}) is the same prefix as ${key}[${earlier}].path (${routes[earlier].path}): a trailing "/" ` +
          "makes no difference, the gateway routes both the prefix and everything under it",
      );
    }
  });
  if (routes.length > 0 && publicCidrs !== undefined && publicCidrs.length === 0) {
    v.report(
      cidrsKey,
      "is empty, so no client could reach the routes; list the CIDRs that may (0.0.0.0/0 for everyone)",
    );
  }
}

function parseRoute(v: Validator, value: unknown, key: string): GatewayRoute | undefined {
  const obj = v.object(value, key, ["path", "service", "port"]);
  if (obj === undefined) {
    return undefined;
  }
  return complete({
    path: v.required(obj.path, `${key}.path`, (x, p) => {
      const path = v.string(x, p, 'a URL path prefix starting with "/", e.g. /hello');
      const problem = path === undefined ? undefined : (routePathProblem(path) ?? ownPathProblem(path));
      if (problem !== undefined) {
        v.report(p, `(${JSON.stringify(path)}) ${problem}`);
        return undefined;
      }
      return path;
    }),
    service: v.required(obj.service, `${key}.service`, (x, p) => routeService(v, x, p)),
    port: v.required(obj.port, `${key}.port`, (x, p) => v.integer(x, p, 1, 65535)),
  });
}

export function parseImages(v: Validator, value: unknown, key: string, projectRoot: string): ImageConfig[] | undefined {
  const images = v.list(
    value ?? [],
    key,
    (x, p) => {
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
    },
    "name",
  );
  checkImageVariables(v, value, key);
  return images;
}
