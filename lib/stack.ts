/**
 * Pure planning for the stack deployment: compose variables, content hashes, the encrypted-overlay
 * rewrite and the env of scripts/deploy-stack.sh. components/stackDeployment.ts only wires these
 * to resources; image names and registry helpers are in lib/images.ts.
 */
import { createHash } from "crypto";
import { DEFAULT_CONVERGE_TIMEOUT, DEFAULT_SLOTS } from "./defaults";
import { GATEWAY_CONTAINER_PORT, renderHaproxyConfig } from "./haproxy";
import { GatewayConfig, StackConfig } from "./types";

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
 * Adds `driver_opts: { encrypted: "" }` to every non-external network declared at the top level of
 * a compose file (block-style YAML, as compose files are written). The overlay driver encrypts
 * when the option is merely present, whatever its value, and a `-c` override file would replace
 * the whole network definition, so the option has to go into the file itself. A file without
 * top-level networks gets an encrypted `default` network (the one `docker stack deploy` creates).
 */
export function encryptOverlayNetworks(compose: string): string {
  const lines = compose.replace(/\r\n/g, "\n").split("\n");
  const start = lines.findIndex((line) => /^networks:\s*(#.*)?$/.test(line));
  if (start < 0) {
    const body = compose.endsWith("\n") ? compose : `${compose}\n`;
    return `${body}networks:\n  default:\n    driver: overlay\n    driver_opts:\n      encrypted: ""\n`;
  }
  let end = start + 1;
  while (end < lines.length && (/^\s/.test(lines[end]) || lines[end].trim() === "" || lines[end].startsWith("#"))) {
    end++;
  }
  const section = lines.slice(start + 1, end);
  const first = section.find(significant);
  if (first === undefined) {
    throw new Error("compose file: the top-level networks: section is empty");
  }
  const unit = indentOf(first);
  const out: string[] = [];
  let i = 0;
  while (i < section.length) {
    const line = section[i];
    if (!significant(line) || indentOf(line) !== unit) {
      out.push(line);
      i++;
      continue;
    }
    let j = i + 1;
    while (j < section.length && (!significant(section[j]) || indentOf(section[j]) > unit)) {
      j++;
    }
    out.push(...encryptNetwork(line, section.slice(i + 1, j), unit));
    i = j;
  }
  return [...lines.slice(0, start + 1), ...out, ...lines.slice(end)].join("\n");
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** Neither blank nor a comment. */
function significant(line: string): boolean {
  return line.trim() !== "" && !line.trimStart().startsWith("#");
}

/**
 * One network of the top-level section, its name `line` at indent `unit` followed by its `body`:
 * encrypted unless it is external.
 */
function encryptNetwork(line: string, body: string[], unit: number): string[] {
  const header = /^(\s*)([^\s:#][^:#]*):\s*(\{\s*\})?\s*(#.*)?$/.exec(line);
  if (header === null) {
    throw new Error(`compose file: can't add encryption to network line "${line.trim()}"; write it in block style`);
  }
  const firstChild = body.find(significant);
  const childIndent = firstChild ? indentOf(firstChild) : unit * 2;
  const pad = " ".repeat(childIndent);
  const external = body.some(
    (l) => new RegExp(`^${pad}external:\\s*(true|yes|\\{|$)`).test(l) && indentOf(l) === childIndent,
  );
  const out = [header[3] ? `${header[1]}${header[2]}:` : line];
  if (external) {
    return [...out, ...body];
  }
  const optsAt = body.findIndex((l) => indentOf(l) === childIndent && /^\s*driver_opts:\s*(#.*)?$/.test(l));
  if (optsAt < 0) {
    return [...out, `${pad}driver_opts:`, `${pad}  encrypted: ""`, ...body];
  }
  const next = body.slice(optsAt + 1).find(significant);
  const optIndent = next && indentOf(next) > childIndent ? indentOf(next) : childIndent + 2;
  return [...out, ...body.slice(0, optsAt + 1), `${" ".repeat(optIndent)}encrypted: ""`, ...body.slice(optsAt + 1)];
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
  const compose = input.encryptOverlay ? encryptOverlayNetworks(input.compose) : input.compose;
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
