/**
 * The stacks to deploy (`stacks`, or the one-stack shorthand `stack`) and what the gateway's routes
 * name in them. The compose files are read here, once, so that a route to a service no file
 * declares, or one two files declare, is reported before anything is created.
 */
import * as fs from "fs";
import * as path from "path";
import { composeNetworks, composeServices } from "./compose";
import { DEFAULT_STACKS } from "./defaults";
import { GATEWAY_NETWORK_KEY, GATEWAY_STACK } from "./gatewayStack";
import { imageVariableName } from "./images";
import { GatewayRoute, NAMESPACE, StackConfig } from "./types";
import { complete, Validator } from "./validator";
import { reservedVariable } from "./variables";

/** What `stacks` (or `stack`) configure, and the services each stack's compose file declares. */
export interface ParsedStacks {
  stacks: StackConfig[];
  /** Stack name → the services its file declares, in file order. */
  services: Map<string, string[]>;
}

export interface StackKeys {
  stacks: string;
  stack: string;
}

/**
 * `stacks: [{name, file, variables}]`, or `stack: {name, file, variables}` for one. Both set is
 * refused (which one wins would be a guess); neither deploys the sample (DEFAULT_STACKS).
 */
export function parseStacks(
  v: Validator,
  raw: { stacks: unknown; stack: unknown },
  keys: StackKeys,
  projectRoot: string,
  imagesValue: unknown,
): ParsedStacks | undefined {
  if (raw.stacks !== undefined && raw.stack !== undefined) {
    v.report(
      keys.stack,
      `and ${keys.stacks} are both set: move the stack into ${keys.stacks} (a list) and remove ${keys.stack}`,
    );
    return undefined;
  }
  const imageVariables = new Set(
    rawImageNames(imagesValue).flatMap((name) => (name === undefined ? [] : [imageVariableName(name)])),
  );
  const services = new Map<string, string[]>();
  const read = (value: unknown, key: string) => {
    const stack = parseStack(v, value, key, projectRoot, imageVariables);
    const declared = stack && readCompose(v, stack, key, projectRoot);
    if (stack === undefined || declared === undefined) {
      return undefined;
    }
    services.set(stack.name, declared);
    return stack;
  };
  const stacks =
    raw.stack !== undefined
      ? complete([read(raw.stack, keys.stack)])
      : v.list(raw.stacks ?? DEFAULT_STACKS, keys.stacks, read, "name");
  return stacks && { stacks, services };
}

function parseStack(
  v: Validator,
  value: unknown,
  key: string,
  projectRoot: string,
  imageVariables: Set<string>,
): StackConfig | undefined {
  const obj = v.object(value, key, ["name", "file", "variables"]);
  if (obj === undefined) {
    return undefined;
  }
  return complete({
    name: v.required(obj.name, `${key}.name`, (x, p) => {
      const name = dockerName(v, x, p, "stack");
      if (name === GATEWAY_STACK) {
        v.report(p, `must not be "${GATEWAY_STACK}": that is the gateway's own stack`);
        return undefined;
      }
      return name;
    }),
    file: v.required(obj.file, `${key}.file`, (x, p) =>
      v.existingPath(x, p, projectRoot, "file", "relative to the project root"),
    ),
    variables: v.optional(obj.variables, `${key}.variables`, {}, (x, p) =>
      v.stringMap(x, p, (name) => variableProblem(name, imageVariables)),
    ),
  });
}

function variableProblem(name: string, imageVariables: Set<string>): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    return "is not a valid variable name: letters, digits and '_', not starting with a digit";
  }
  if (imageVariables.has(name)) {
    return `is set from a built image (${NAMESPACE}:images) and cannot be overridden here`;
  }
  const reserved = reservedVariable(name);
  if (reserved !== undefined) {
    return `is reserved (${reserved}): it would change how the deploy's shell or the docker CLI behaves; use another name`;
  }
  return undefined;
}

/** The services a stack's file declares; a file Docker could not read is reported here. */
function readCompose(v: Validator, stack: StackConfig, key: string, projectRoot: string): string[] | undefined {
  const text = fs.readFileSync(path.resolve(projectRoot, stack.file), "utf8");
  try {
    if (composeNetworks(text).includes(GATEWAY_NETWORK_KEY)) {
      v.report(
        `${key}.file`,
        `(${stack.file}) declares the network ${GATEWAY_NETWORK_KEY}, which aws-swarm adds itself to the routed services; rename it`,
      );
      return undefined;
    }
    return composeServices(text);
  } catch (error) {
    v.report(`${key}.file`, `(${stack.file}) is not a compose file Docker can read: ${(error as Error).message}`);
    return undefined;
  }
}

/** The `name` of each raw `images` item (by position), before validation. */
export function rawImageNames(images: unknown): (string | undefined)[] {
  return Array.isArray(images)
    ? images.map((image) => {
        const name = (image as Record<string, unknown> | null)?.name;
        return typeof name === "string" ? name : undefined;
      })
    : [];
}

/** Stack and service names: what `docker stack deploy` accepts without renaming. */
export function dockerName(v: Validator, value: unknown, key: string, what: string): string | undefined {
  return v.pattern(
    value,
    key,
    /^[a-z0-9][a-z0-9_-]*$/,
    `a ${what} name: lower-case letters, digits, '-' and '_', starting with a letter or digit`,
  );
}

/**
 * Each route's stack: the one written (`stack/service`) or the one configured stack whose file
 * declares the service. Two stacks declaring it is ambiguous; a named stack that is configured
 * but lacks the service is a typo. A service no configured stack declares stays unresolved
 * (the gateway answers 503 for it, and the plan warns): a stack just removed from the config
 * leaves its routes behind that way.
 */
export function resolveRoutes(
  v: Validator,
  routes: GatewayRoute[],
  key: string,
  services: Map<string, string[]>,
): GatewayRoute[] {
  return routes.map((route, i) => {
    const [written, name] = route.service.includes("/") ? route.service.split("/", 2) : [undefined, route.service];
    const declaring = [...services].filter(([, declared]) => declared.includes(name)).map(([stack]) => stack);
    const at = `${key}[${i}].service`;
    if (written !== undefined) {
      if (services.has(written) && !declaring.includes(written)) {
        v.report(at, `(${route.service}) names stack ${written}, whose file declares no service ${name}`);
      }
      return { ...route, service: name, stack: written };
    }
    if (declaring.length > 1) {
      v.report(
        at,
        `(${name}) is declared by stacks ${declaring.join(" and ")}: write ${declaring.map((s) => `${s}/${name}`).join(" or ")}`,
      );
    }
    return declaring.length === 1 ? { ...route, stack: declaring[0] } : route;
  });
}

/** A route's `service`: `service` or `stack/service`, each a Docker name. */
export function routeService(v: Validator, value: unknown, key: string): string | undefined {
  const text = v.pattern(
    value,
    key,
    /^([a-z0-9][a-z0-9_-]*\/)?[a-z0-9][a-z0-9_-]*$/,
    `a service name, or "stack/service": lower-case letters, digits, '-' and '_', each starting with a letter or digit`,
  );
  if (text?.startsWith(`${GATEWAY_STACK}/`)) {
    v.report(key, `must not name the stack "${GATEWAY_STACK}": the gateway would route requests to itself`);
    return undefined;
  }
  return text;
}

/**
 * A route whose service no configured stack declares is valid (a stack just removed from the
 * config leaves its routes behind), but it answers 503 until such a service runs: said on every
 * `pulumi up`, naming the route.
 */
export function unresolvedRouteWarnings(routes: readonly GatewayRoute[], stacks: readonly StackConfig[]): string[] {
  const configured = new Set(stacks.map((stack) => stack.name));
  return routes.flatMap((route, i) =>
    route.stack !== undefined && configured.has(route.stack)
      ? []
      : [
          `${NAMESPACE}:gateway.routes[${i}] (${route.path}) goes to ${route.stack ? `${route.stack}/` : ""}${route.service}, ` +
            "which no configured stack declares: it answers 503 until a Swarm service " +
            `${route.stack ? `${route.stack}_${route.service}` : route.service} runs on the network ` +
            `${GATEWAY_NETWORK_KEY}; add its stack to ${NAMESPACE}:stacks, or remove the route`,
        ],
  );
}
