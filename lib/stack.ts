/**
 * Pure planning for the stack deployment: compose variables, content hashes and the env of
 * scripts/deploy-stack.sh. components/stackDeployment.ts only wires these to resources; image
 * names and registry helpers are in lib/images.ts, compose file rewrites in lib/compose.ts.
 */
import { createHash } from "crypto";
import { encryptOverlayNetworks } from "./compose";
import { DEFAULT_CONVERGE_TIMEOUT, DEFAULT_SLOTS } from "./defaults";
import { GATEWAY_CONTAINER_PORT, renderHaproxyConfig } from "./haproxy";
import { GATEWAY_GRACE_SECONDS } from "./loadBalancer";
import { GatewayConfig, StackConfig } from "./types";
import { reservedVariable } from "./variables";

/** The file the compose file's gateway config object reads (`file: ./haproxy.cfg`). */
export const HAPROXY_FILE = "haproxy.cfg";

/** A short, stable content hash (sha256, hex) for triggers and config object names. */
export function contentHash(text: string, length = 12): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** Hash of a variable map that does not depend on key order. */
export function variablesHash(variables: Record<string, string>): string {
  return contentHash(renderVariables(variables));
}

/**
 * STACK_VARIABLES for deploy-stack.sh: sorted `KEY=VALUE` lines. Values can't hold newlines (one
 * variable per line) and keys must be valid shell/compose names.
 */
export function renderVariables(variables: Record<string, string>): string {
  return Object.keys(variables)
    .sort()
    .map((key) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
        throw new Error(`stack variable "${key}" is not a valid variable name`);
      }
      if (reservedVariable(key) !== undefined) {
        throw new Error(`stack variable ${key} is reserved (lib/variables.ts)`);
      }
      const value = variables[key];
      if (/[\r\n\0]/.test(value)) {
        throw new Error(`stack variable ${key} must not contain a newline or NUL`);
      }
      return `${key}=${value}\n`;
    })
    .join("");
}

/** FILES_B64 for deploy-stack.sh: one `<name> <base64>` line per file, sorted by name. */
export function encodeFiles(files: Record<string, string>): string {
  return Object.keys(files)
    .sort()
    .map((name) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name === "compose.yml") {
        throw new Error(`stack file name "${name}" must be a plain file name other than compose.yml`);
      }
      return `${name} ${Buffer.from(files[name]).toString("base64")}\n`;
    })
    .join("");
}

export interface StackPlanInput {
  stack: StackConfig;
  gateway: GatewayConfig;
  encryptOverlay: boolean;
  /** Text of the compose file (`stack.file`). */
  compose: string;
  /** Built images: `<NAME>_IMAGE` → `repo@sha256:…`. */
  imageVariables?: Record<string, string>;
  /** Server slots per gateway backend. @default DEFAULT_SLOTS */
  gatewaySlots?: number;
  /** @default DEFAULT_CONVERGE_TIMEOUT */
  convergeTimeout?: number;
}

export interface StackPlan {
  haproxyConfig: string;
  /** Compose substitution variables, as deploy-stack.sh exports them. */
  variables: Record<string, string>;
  /** Env of scripts/deploy-stack.sh. */
  env: Record<string, string>;
  /** Content hashes: the deploy runs again exactly when one of them changes. */
  hashes: { compose: string; haproxy: string; images: string; variables: string };
}

/**
 * Everything the deploy command needs. Variable precedence, lowest first: `stack.variables`, then
 * the built images (a rebuilt image always wins over a hand-set value), then the program's own
 * STACK_NAME, GATEWAY_PORT and GATEWAY_CONFIG_HASH, which must match the config and haproxy.cfg.
 */
export function planStack(input: StackPlanInput): StackPlan {
  const haproxyConfig = renderHaproxyConfig({
    routes: input.gateway.routes,
    stackName: input.stack.name,
    slots: input.gatewaySlots ?? DEFAULT_SLOTS,
    listenPort: GATEWAY_CONTAINER_PORT,
    ...(input.gateway.loadBalancer && {
      loadBalancer: { graceSeconds: GATEWAY_GRACE_SECONDS, redirectToHttps: input.gateway.domain !== undefined },
    }),
  });
  const images = input.imageVariables ?? {};
  const haproxyHash = contentHash(haproxyConfig);
  const variables: Record<string, string> = {
    ...(input.stack.variables ?? {}),
    ...images,
    STACK_NAME: input.stack.name,
    GATEWAY_PORT: String(input.gateway.port),
    GATEWAY_CONFIG_HASH: haproxyHash,
  };
  // Off, the file goes as written: clusters that never encrypted see no change at all.
  const compose = input.encryptOverlay ? encryptOverlayNetworks(input.compose, input.stack.name) : input.compose;
  const env: Record<string, string> = {
    STACK_NAME: input.stack.name,
    COMPOSE_B64: Buffer.from(compose).toString("base64"),
    FILES_B64: encodeFiles({ [HAPROXY_FILE]: haproxyConfig }),
    STACK_VARIABLES: renderVariables(variables),
    CONVERGE_TIMEOUT: String(input.convergeTimeout ?? DEFAULT_CONVERGE_TIMEOUT),
  };
  return {
    haproxyConfig,
    variables,
    env,
    hashes: {
      compose: contentHash(compose),
      haproxy: haproxyHash,
      images: variablesHash(images),
      variables: variablesHash(variables),
    },
  };
}

/** `http://<ip>:<port>` for each gateway node. */
export function gatewayUrls(addresses: readonly string[], port: number): string[] {
  return addresses.map((address) => `http://${address}:${port}`);
}
