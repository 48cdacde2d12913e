/**
 * Pure planning for the stack deployment: compose variables, content hashes, the encrypted-overlay
 * rewrite and the env of scripts/deploy-stack.sh. components/stackDeployment.ts only wires these
 * to resources; image names and registry helpers are in lib/images.ts.
 */
import { createHash } from "crypto";
import { Document, isMap, isNode, isPair, isScalar, parseDocument, Scalar, visit, YAMLMap, YAMLSeq } from "yaml";
import { DEFAULT_CONVERGE_TIMEOUT, DEFAULT_SLOTS } from "./defaults";
import { GATEWAY_CONTAINER_PORT, renderHaproxyConfig } from "./haproxy";
import { GATEWAY_GRACE_SECONDS } from "./loadBalancer";
import { attachServices, ENCRYPTED_NETWORK_SUFFIX, referencedVariables } from "./compose";
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

/**
 * Encrypts the stack's overlay networks: every non-external overlay network declared at the top
 * level of a compose file gets `driver_opts: { encrypted: "" }` (the overlay driver encrypts when
 * the option is merely present, whatever its value) and a new `name:`, its old name plus
 * `-encrypted` (`<stack>_<key>` when it had none). The new name is what makes turning the setting
 * on or off reach a running cluster: Docker never changes an existing network's options, and
 * `docker stack deploy` reuses a network that exists under the name it wants, so only a network
 * under another name is created with the option, and moving to it rolls every service attached.
 * scripts/deploy-stack.sh removes the old network once no service uses it.
 *
 * A network the file already encrypts is left alone (it does not change with the setting), and so
 * are external ones (not the stack's to recreate) and other drivers. Services without `networks`
 * use the stack's `default` network: when none is declared, one is added (overlay, encrypted).
 * The option has to go into the file itself: a `-c` override file would replace the whole network
 * definition, and a variable can't remove a key.
 *
 * The document is edited as parsed YAML (comments, anchors, quoting and key order stay; indentation
 * becomes two spaces). It is read as YAML 1.1, as Docker's loader does, so that `mode: 0444` stays
 * octal: read as YAML 1.2 it would be written back as the decimal `444`.
 */
export function encryptOverlayNetworks(compose: string, stackName: string): string {
  const doc = parseDocument(compose, { version: "1.1" });
  if (doc.errors.length > 0) {
    throw new Error(`compose file: ${doc.errors[0].message}`);
  }
  if (!isMap(doc.contents)) {
    throw new Error("compose file: the top level must be a mapping (services:, networks:, …)");
  }
  const root = doc.contents as YAMLMap<unknown, unknown>;
  const resolved = (doc.toJS() ?? {}) as Record<string, unknown>;
  const declared = asRecord(resolved.networks);
  const existing: unknown = root.get("networks", true);
  let section: YAMLMap;
  if (isMap(existing)) {
    section = existing;
    section.flow = section.flow && section.items.length > 0;
  } else {
    // Absent, empty (`networks:`) or an alias of another mapping: a mapping of its own.
    section = doc.createNode(declared) as YAMLMap;
    root.set("networks", section);
  }
  if (usesDefaultNetwork(resolved.services) && !("default" in declared)) {
    declared.default = { driver: "overlay" };
    section.set("default", doc.createNode({ driver: "overlay" }));
  }
  // What each network is called with the setting off: a new name must be none of them, or
  // turning the setting on would reuse that (unencrypted) network.
  const plainNames = new Map(Object.keys(declared).map((key) => [networkName(stackName, key, declared[key]), key]));
  for (const pair of section.items) {
    const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
    const network = asRecord(declared[key]);
    const opts = asRecord(network.driver_opts);
    if (network.external || (network.driver ?? "overlay") !== "overlay" || "encrypted" in opts) {
      continue;
    }
    const node = isMap(pair.value) ? pair.value : (doc.createNode(network) as YAMLMap);
    if (node.items.length === 0) {
      node.flow = false; // `app: {}` becomes a block like the others
    }
    pair.value = node;
    const ownOpts = node.get("driver_opts", true);
    if (isMap(ownOpts)) {
      ownOpts.set("encrypted", quoted(""));
    } else {
      // Absent, an alias or inherited through `<<`: its own copy, so nothing shared changes.
      node.set("driver_opts", doc.createNode({ ...opts, encrypted: "" }));
    }
    const name = `${networkName(stackName, key, network)}${ENCRYPTED_NETWORK_SUFFIX}`;
    const holder = plainNames.get(name);
    if (holder !== undefined) {
      throw new Error(
        `compose file: network ${holder} is named ${name}, the name network ${key} gets when encrypted; rename one`,
      );
    }
    node.set("name", name);
  }
  anchorsBeforeComments(doc);
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** The name `docker stack deploy` gives a declared network. */
function networkName(stackName: string, key: string, value: unknown): string {
  const network = asRecord(value);
  if (typeof network.name === "string") {
    return network.name;
  }
  return network.external ? key : `${stackName}_${key}`;
}

/** Whether a service attaches to the stack's `default` network (no `networks`, or by name). */
function usesDefaultNetwork(services: unknown): boolean {
  return Object.values(asRecord(services)).some((service) => {
    const networks = asRecord(service).networks;
    if (Array.isArray(networks)) {
      return networks.length === 0 || networks.includes("default");
    }
    return networks === undefined || networks === null || "default" in asRecord(networks);
  });
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function quoted(value: string): Scalar {
  const scalar = new Scalar(value);
  scalar.type = Scalar.QUOTE_DOUBLE;
  return scalar;
}

/**
 * `key: &anchor` followed by a comment is written by the yaml package as the comment, then the
 * anchor on a line of its own: valid, but not how anyone writes it. The comment moves onto the
 * first entry instead, so the anchor stays on the key's line.
 */
function anchorsBeforeComments(doc: Document): void {
  visit(doc, {
    Map(_, node) {
      moveComment(node);
    },
    Seq(_, node) {
      moveComment(node);
    },
  });
}

function moveComment(node: YAMLMap | YAMLSeq): void {
  if (!node.anchor || !node.commentBefore || node.items.length === 0) {
    return;
  }
  const first = node.items[0];
  const target = isPair(first) ? first.key : first;
  if (isNode(target)) {
    target.commentBefore = target.commentBefore ? `${node.commentBefore}\n${target.commentBefore}` : node.commentBefore;
    target.spaceBefore = target.spaceBefore || node.spaceBefore;
    node.commentBefore = undefined;
  }
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
