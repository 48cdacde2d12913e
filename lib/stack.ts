/**
 * Pure planning for the stack deployment: compose variables, content hashes and the env of
 * scripts/deploy-stack.sh. components/stackDeployment.ts only wires these to resources; image
 * names and registry helpers are in lib/images.ts, compose file rewrites in lib/compose.ts.
 */
import { createHash } from "crypto";
import { DEFAULT_CONVERGE_TIMEOUT, DEFAULT_SLOTS } from "./defaults";
import { GATEWAY_CONTAINER_PORT, renderHaproxyConfig } from "./haproxy";
import { GATEWAY_GRACE_SECONDS } from "./loadBalancer";
import { attachServices, encryptOverlayNetworks, referencedVariables } from "./compose";
import {
  GATEWAY_NETWORK_KEY,
  GATEWAY_STACK,
  gatewayNetworkName,
  HAPROXY_FILE,
  renderGatewayCompose,
} from "./gatewayStack";
import { GatewayConfig, StackConfig } from "./types";
import { reservedVariable } from "./variables";

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

export interface StacksPlanInput {
  stacks: readonly StackConfig[];
  gateway: GatewayConfig;
  encryptOverlay: boolean;
  /** Text of each stack's compose file, by stack name. */
  composeFiles: Record<string, string>;
  /** Built images: `<NAME>_IMAGE` → `repo@sha256:…`. */
  imageVariables?: Record<string, string>;
  /** Server slots per gateway backend. @default DEFAULT_SLOTS */
  gatewaySlots?: number;
  /** @default DEFAULT_CONVERGE_TIMEOUT */
  convergeTimeout?: number;
}

/** One `docker stack deploy`: what scripts/deploy-stack.sh gets, and when it runs again. */
export interface StackPlan {
  name: string;
  /** Compose substitution variables, as deploy-stack.sh exports them. */
  variables: Record<string, string>;
  /** The compose file as deployed (routed services attached to the gateway's network). */
  compose: string;
  /** The services attached to the gateway's network: exactly the routed ones. */
  routed: string[];
  /** Env of scripts/deploy-stack.sh. */
  env: Record<string, string>;
  /** Content hashes: the deploy runs again exactly when one of them changes. */
  hashes: { compose: string; files: string; variables: string };
}

export interface StacksPlan {
  haproxyConfig: string;
  /** The gateway's own stack, deployed first: it creates the networks the others attach to. */
  gateway: StackPlan;
  /** The user's stacks, in config order. */
  stacks: StackPlan[];
  /** The gateway network the routed services join (the encrypted one with swarm.encryptOverlay). */
  network: string;
}

/** Every deploy of the cluster: the gateway's stack, then each configured stack. */
export function planStacks(input: StacksPlanInput): StacksPlan {
  const haproxyConfig = renderHaproxyConfig({
    routes: input.gateway.routes,
    slots: input.gatewaySlots ?? DEFAULT_SLOTS,
    listenPort: GATEWAY_CONTAINER_PORT,
    accessLog: input.gateway.accessLog,
    ...(input.gateway.loadBalancer && {
      loadBalancer: { graceSeconds: GATEWAY_GRACE_SECONDS, redirectToHttps: input.gateway.domain !== undefined },
    }),
  });
  const network = gatewayNetworkName(input.encryptOverlay);
  const timeout = input.convergeTimeout ?? DEFAULT_CONVERGE_TIMEOUT;
  const gatewayCompose = renderGatewayCompose({
    image: input.gateway.image,
    port: input.gateway.port,
    containerPort: GATEWAY_CONTAINER_PORT,
    configHash: contentHash(haproxyConfig),
  });
  const gateway = planDeploy(GATEWAY_STACK, gatewayCompose, {}, { [HAPROXY_FILE]: haproxyConfig }, timeout);
  const stacks = input.stacks.map((stack) => {
    const text = input.composeFiles[stack.name];
    const routed = [
      ...new Set(input.gateway.routes.filter((route) => route.stack === stack.name).map((route) => route.service)),
    ];
    const attached = attachServices(text, routed, { key: GATEWAY_NETWORK_KEY, name: network });
    // Off, the file goes as written but for the attachment: clusters that never encrypted see no change.
    const compose = input.encryptOverlay ? encryptOverlayNetworks(attached, stack.name) : attached;
    // Only the built images this file names: rebuilding one redeploys only the stacks that use it.
    const used = new Set(referencedVariables(text));
    const images = Object.fromEntries(Object.entries(input.imageVariables ?? {}).filter(([name]) => used.has(name)));
    return { ...planDeploy(stack.name, compose, { ...stack.variables, ...images }, {}, timeout), routed };
  });
  return { haproxyConfig, gateway: { ...gateway, routed: [] }, stacks, network };
}

/**
 * One stack's deploy. Variable precedence, lowest first: the stack's `variables`, then the built
 * images (a rebuilt image always wins over a hand-set value), then STACK_NAME.
 */
function planDeploy(
  name: string,
  compose: string,
  variables: Record<string, string>,
  files: Record<string, string>,
  convergeTimeout: number,
): Omit<StackPlan, "routed"> {
  const all = { ...variables, STACK_NAME: name };
  const encodedFiles = encodeFiles(files);
  return {
    name,
    variables: all,
    compose,
    env: {
      STACK_NAME: name,
      COMPOSE_B64: Buffer.from(compose).toString("base64"),
      FILES_B64: encodedFiles,
      STACK_VARIABLES: renderVariables(all),
      CONVERGE_TIMEOUT: String(convergeTimeout),
    },
    hashes: { compose: contentHash(compose), files: contentHash(encodedFiles), variables: variablesHash(all) },
  };
}

/** `http://<ip>:<port>` for each gateway node. */
export function gatewayUrls(addresses: readonly string[], port: number): string[] {
  return addresses.map((address) => `http://${address}:${port}`);
}
