/**
 * Compose files as parsed YAML: what a file declares (services, variables) and the two rewrites the
 * program makes before deploying one, attaching routed services to the gateway's network and
 * encrypting the overlay networks. Pure: no Pulumi, no I/O.
 *
 * Documents are read as YAML 1.1, as Docker's loader does: `mode: 0444` stays octal (read as YAML
 * 1.2 it would be written back as the decimal `444`) and merge keys (`<<: *base`) are honoured,
 * less two readings the edits would not write back as written (see `asWrittenTags`).
 * Rewrites edit the parsed document, so comments, anchors, quoting and key order stay (indentation
 * becomes two spaces), and a node shared through an anchor is never edited for one of its users
 * only (see `ownMap` and `unshare`).
 */
import { isDeepStrictEqual } from "util";
import {
  Alias,
  Document,
  isAlias,
  isCollection,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  Pair,
  parseDocument,
  Scalar,
  Tags,
  visit,
  YAMLMap,
  YAMLSeq,
} from "yaml";

/** Appended to the name of every network `encryptOverlayNetworks` encrypts. */
export const ENCRYPTED_NETWORK_SUFFIX = "-encrypted";

/** A compose file's document; throws `compose file: …` on YAML errors or a top level that isn't a mapping. */
export function parseCompose(text: string): Document {
  const doc = parseDocument(text, { version: "1.1", customTags: asWrittenTags });
  if (doc.errors.length > 0) {
    throw new Error(`compose file: ${doc.errors[0].message}`);
  }
  if (!isMap(doc.contents)) {
    throw new Error("compose file: the top level must be a mapping (services:, networks:, …)");
  }
  return doc;
}

/**
 * YAML 1.1's tags less base-60 numbers and timestamps, which the yaml package would not write back
 * as they were written. Read as 1.1, an unquoted port mapping `2222:22` is the number 133342,
 * written back as `37:02:22`: Docker's loader (Go's yaml.v3) has no base-60, reads `2222:22` as
 * written, and refuses `37:02:22`. A timestamp would be written back in UTC. Read as strings, both
 * stay as written, so Docker reads them as it would have.
 */
function asWrittenTags(tags: Tags): Tags {
  return tags.filter(
    (tag) => typeof tag === "string" || (tag.format !== "TIME" && tag.tag !== "tag:yaml.org,2002:timestamp"),
  );
}

/** The service names the file declares (merges and aliases resolved), in file order. */
export function composeServices(text: string): string[] {
  return Object.keys(asRecord(resolve(parseCompose(text)).services));
}

/** The networks the file declares at its top level (merges and aliases resolved), in file order. */
export function composeNetworks(text: string): string[] {
  return Object.keys(asRecord(resolve(parseCompose(text)).networks));
}

/**
 * The variables the file substitutes (`${NAME}`, `${NAME:-x}`, `${NAME:?x}`, `$NAME`), sorted and
 * unique. Only values count, as Docker interpolates nothing else: not keys, not comments. `$$` is an
 * escaped `$`, so `$$p` in a healthcheck is no variable.
 */
export function referencedVariables(text: string): string[] {
  const names = new Set<string>();
  for (const value of strings(resolve(parseCompose(text)))) {
    for (const match of value.matchAll(/\$(?:\$|\{([A-Za-z_]\w*)|([A-Za-z_]\w*))/g)) {
      const name = match[1] ?? match[2];
      if (name !== undefined) {
        names.add(name);
      }
    }
  }
  return [...names].sort();
}

/** Every string value in a resolved document (keys are never interpolated). */
function strings(value: unknown): string[] {
  if (typeof value === "string") {
    return [value];
  }
  if (value !== null && typeof value === "object") {
    return Object.values(value).flatMap(strings);
  }
  return [];
}

/** A network of another stack that a compose file attaches services to. */
export interface ExternalNetwork {
  /** The key under `networks:` (in the file). */
  key: string;
  /** The network's Docker name. */
  name: string;
}

/**
 * Attaches the named services to an external network: each gets `network.key` in its `networks`,
 * and the top level declares `network.key: {external: true, name: network.name}`. A service without
 * networks was on the stack's `default` network and keeps it (`[default, <key>]`: Docker accepts an
 * undeclared `default`); short syntax gets the key appended, long syntax the key with no options.
 * Nothing else changes: a service's `networks` that is an alias or inherited through `<<` becomes
 * the service's own copy, and where others alias or merge what is edited, they get a copy of it as
 * it was (`unshare`). Attaching again changes nothing; no service at all returns the text as is.
 *
 * Throws for a service the file doesn't declare, and for a file that declares a network under
 * `network.key` itself, other than this very declaration.
 */
export function attachServices(text: string, services: readonly string[], network: ExternalNetwork): string {
  if (services.length === 0) {
    return text;
  }
  const doc = parseCompose(text);
  const resolved = resolve(doc);
  const declared = asRecord(resolved.networks);
  const declaration = { external: true, name: network.name };
  if (Object.hasOwn(declared, network.key) && !isDeepStrictEqual(declared[network.key], declaration)) {
    throw new Error(`compose file: network ${network.key} is reserved for aws-swarm; rename the file's network`);
  }
  const serviceValues = asRecord(resolved.services);
  const unknown = services.filter((name) => !Object.hasOwn(serviceValues, name));
  if (unknown.length > 0) {
    const known = Object.keys(serviceValues).join(", ") || "none";
    throw new Error(`compose file: no service ${unknown.join(", ")} (the file declares ${known})`);
  }
  const root = doc.contents as YAMLMap;
  const section = ownMap(doc, entry(doc, root, "services"), resolved.services);
  for (const name of new Set(services)) {
    const networks = asRecord(serviceValues[name]).networks;
    if (!attached(networks, network.key)) {
      const pair = entry(doc, section, name);
      inlineAlias(doc, pair);
      const service = ownMap(doc, pair, serviceValues[name]);
      addNetwork(doc, entry(doc, service, "networks"), networks, network.key);
    }
  }
  ownMap(doc, entry(doc, root, "networks"), declared).set(network.key, doc.createNode(declaration));
  return render(doc);
}

/**
 * An alias in `pair` (`canary: *api`) becomes a copy of the node it names, as written. A copy built
 * from resolved values would write back YAML 1.1 readings that Docker's loader doesn't share:
 * `FEATURE: on` in an environment is true to YAML 1.1 (written back as `true`, which Docker
 * refuses there), the string "on" to Docker.
 */
function inlineAlias(doc: Document, pair: Pair): void {
  const target = isAlias(pair.value) ? pair.value.resolve(doc) : undefined;
  if (target !== undefined) {
    pair.value = detachedCopy(target);
  }
}

/** Whether a service's resolved `networks` (short or long syntax) names `key`. */
function attached(networks: unknown, key: string): boolean {
  return Array.isArray(networks) ? networks.includes(key) : Object.hasOwn(asRecord(networks), key);
}

/**
 * Adds `key` to a service's `networks` entry, whose resolved value is `resolved`. The service's own,
 * non-empty list or mapping is edited where it is; anything else (absent, null, empty, an alias,
 * inherited through `<<`) is replaced with the resolved value plus the key.
 */
function addNetwork(doc: Document, pair: Pair, resolved: unknown, key: string): void {
  const node = pair.value;
  if ((isSeq(node) || isMap(node)) && node.items.length > 0) {
    unshare(doc, node);
    if (isSeq(node)) {
      node.add(doc.createNode(key));
    } else {
      node.set(key, null);
    }
    return;
  }
  pair.value = doc.createNode(withNetwork(resolved, key));
}

/** A resolved `networks` value plus `key`; none (or empty) is the stack's `default` network. */
function withNetwork(networks: unknown, key: string): unknown {
  if (Array.isArray(networks) && networks.length > 0) {
    return [...networks, key];
  }
  const long = asRecord(networks);
  return Object.keys(long).length > 0 ? { ...long, [key]: null } : ["default", key];
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
 * are external ones (not the stack's to recreate, such as the gateway's network `attachServices`
 * adds) and other drivers. Services without `networks` use the stack's `default` network: when none
 * is declared, one is added (overlay, encrypted). The option has to go into the file itself: a `-c`
 * override file would replace the whole network definition, and a variable can't remove a key.
 */
export function encryptOverlayNetworks(compose: string, stackName: string): string {
  const doc = parseCompose(compose);
  const resolved = resolve(doc);
  const declared = asRecord(resolved.networks);
  const section = ownMap(doc, entry(doc, doc.contents as YAMLMap, "networks"), declared);
  if (usesDefaultNetwork(resolved.services) && !("default" in declared)) {
    declared.default = { driver: "overlay" };
    section.set("default", doc.createNode({ driver: "overlay" }));
  }
  // What each network is called with the setting off: a new name must be none of them, or
  // turning the setting on would reuse that (unencrypted) network.
  const plainNames = new Map(Object.keys(declared).map((key) => [networkName(stackName, key, declared[key]), key]));
  for (const pair of section.items) {
    const key = keyName(pair);
    const network = asRecord(declared[key]);
    const opts = asRecord(network.driver_opts);
    if (network.external || (network.driver ?? "overlay") !== "overlay" || "encrypted" in opts) {
      continue;
    }
    const node = ownMap(doc, pair, network);
    ownMap(doc, entry(doc, node, "driver_opts"), opts).set("encrypted", quoted(""));
    const name = `${networkName(stackName, key, network)}${ENCRYPTED_NETWORK_SUFFIX}`;
    const holder = plainNames.get(name);
    if (holder !== undefined) {
      throw new Error(
        `compose file: network ${holder} is named ${name}, the name network ${key} gets when encrypted; rename one`,
      );
    }
    node.set("name", name);
  }
  return render(doc);
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

/** The document as plain data, merges and aliases resolved. */
function resolve(doc: Document): Record<string, unknown> {
  try {
    return asRecord(doc.toJS());
  } catch (error) {
    // What the parser lets through but can't resolve, such as `<<: [1]` (not a mapping).
    throw new Error(`compose file: ${(error as Error).message}`, { cause: error });
  }
}

/** `map`'s own entry `key` (null when the map has none, even if it inherits one through `<<`). */
function entry(doc: Document, map: YAMLMap, key: string): Pair {
  const found = map.items.find((pair) => keyName(pair) === key);
  if (found !== undefined) {
    return found;
  }
  const pair = doc.createPair(key, null);
  map.items.push(pair);
  return pair;
}

/**
 * The mapping in `pair`, made its own to edit. A mapping written there is kept (others that alias
 * or merge it get a copy first: `unshare`); anything else (absent, null, an alias) becomes a
 * mapping of its own built from `resolved`, its value with aliases and merges resolved.
 */
function ownMap(doc: Document, pair: Pair, resolved: unknown): YAMLMap {
  let map = pair.value;
  if (isMap(map)) {
    unshare(doc, map);
  } else {
    map = doc.createNode(asRecord(resolved));
    pair.value = map;
  }
  const own = map as YAMLMap;
  own.flow = own.flow && own.items.length > 0; // `x: {}` becomes a block as entries are added
  return own;
}

/**
 * Before `node` is edited: every alias of it elsewhere (`*name`, or `<<: *name`) becomes a copy of
 * it as it is now, so the edit changes `node`'s own place only. The anchor itself stays.
 */
function unshare(doc: Document, node: YAMLMap | YAMLSeq): void {
  if (node.anchor === undefined) {
    return;
  }
  visit(doc, {
    Alias(_, alias: Alias) {
      return alias.resolve(doc) === node ? detachedCopy(node) : undefined;
    },
  });
}

/**
 * A deep copy without anchors: an alias after the copy still means what it did (the nearest
 * anchor before it is still the original's), and aliases inside it still resolve as they did.
 */
function detachedCopy<T extends Scalar | YAMLMap | YAMLSeq>(node: T): T {
  const copy = node.clone() as T;
  visit(copy, (_, item) => {
    if (isScalar(item) || isCollection(item)) {
      item.anchor = undefined;
    }
  });
  return copy;
}

function keyName(pair: Pair): string {
  return String(isScalar(pair.key) ? pair.key.value : pair.key);
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function quoted(value: string): Scalar {
  const scalar = new Scalar(value);
  scalar.type = Scalar.QUOTE_DOUBLE;
  return scalar;
}

/** The edited document as text, written the same way by every rewrite. */
function render(doc: Document): string {
  anchorsBeforeComments(doc);
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
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
