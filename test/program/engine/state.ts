/**
 * The stack's state, one JSON file per stack, shaped like Pulumi's checkpoint: every resource by
 * URN with inputs, outputs, dependencies and options, plus `pending_operations` for steps that
 * were in flight when the run was killed. Secret values are encrypted with AES-256-GCM under a
 * per-state key file (Pulumi's passphrase provider does the same with its own key), so the
 * file can be searched for plaintext secrets; everything else stays readable.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { SECRET_SIG } from "../types";

export const SECRET_MARKER = "1b47061264138c4ac30d75fd1eb44270";

export interface CustomTimeouts {
  create?: string;
  update?: string;
  delete?: string;
}

/** The resource options the engine acts on, as the SDK sent them in RegisterResource. */
export interface ResourceOptions {
  deleteBeforeReplace?: boolean;
  deletedWith?: string;
  ignoreChanges: string[];
  replaceOnChanges: string[];
  additionalSecretOutputs: string[];
  customTimeouts?: CustomTimeouts;
  retainOnDelete?: boolean;
  protect?: boolean;
  provider?: string;
}

export interface StateResource {
  urn: string;
  type: string;
  name: string;
  parent?: string;
  custom: boolean;
  id?: string;
  /** Inputs and outputs as the provider saw them; secrets keep Pulumi's envelope. */
  inputs: Record<string, any>;
  outputs: Record<string, any>;
  /** Explicit `dependsOn` plus every resource an input refers to. */
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  options: ResourceOptions;
  /** The old copy of a replaced resource, waiting for its delete (Pulumi's `delete: true`). */
  delete?: boolean;
  /** The harness host that plays this instance. */
  machine?: string;
}

export interface PendingOperation {
  resource: Pick<StateResource, "urn" | "type" | "name" | "inputs">;
  type: "creating" | "updating" | "deleting";
}

export interface StackState {
  version: 1;
  stack: string;
  resources: StateResource[];
  pending_operations: PendingOperation[];
  /** Harness hosts of deleted instances: powered off, never handed out again. */
  retiredMachines: string[];
}

export function emptyState(stack: string): StackState {
  return { version: 1, stack, resources: [], pending_operations: [], retiredMachines: [] };
}

function keyFor(stateFile: string): Buffer {
  const keyFile = `${stateFile}.key`;
  if (!fs.existsSync(keyFile)) {
    fs.mkdirSync(path.dirname(keyFile), { recursive: true });
    fs.writeFileSync(keyFile, crypto.randomBytes(32), { mode: 0o600 });
  }
  return fs.readFileSync(keyFile);
}

export function encryptValue(key: Buffer, value: unknown): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
}

export function decryptValue(key: Buffer, ciphertext: string): unknown {
  const raw = Buffer.from(ciphertext, "base64");
  const decipher = crypto.createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8"));
}

/** Replaces every secret envelope `{sig, value}` by `{sig, ciphertext}` (or back, with `open`). */
export function mapSecrets(value: any, transform: (envelope: Record<string, any>) => Record<string, any>): any {
  if (Array.isArray(value)) {
    return value.map((item) => mapSecrets(item, transform));
  }
  if (value && typeof value === "object") {
    if (value[SECRET_SIG] !== undefined) {
      return transform(value);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapSecrets(v, transform)]));
  }
  return value;
}

export function sealSecrets(key: Buffer, value: any): any {
  return mapSecrets(value, (envelope) => ({
    [SECRET_SIG]: SECRET_MARKER,
    ciphertext: encryptValue(key, envelope.value),
  }));
}

export function openSecrets(key: Buffer, value: any): any {
  return mapSecrets(value, (envelope) =>
    envelope.ciphertext === undefined
      ? envelope
      : { [SECRET_SIG]: SECRET_MARKER, value: decryptValue(key, envelope.ciphertext) },
  );
}

export function loadState(file: string, stack: string): StackState {
  if (!fs.existsSync(file)) {
    return emptyState(stack);
  }
  return openSecrets(keyFor(file), JSON.parse(fs.readFileSync(file, "utf8")));
}

/**
 * Each resource's sealed JSON text, by the resource object and the key it was sealed with. The
 * engine never changes a state resource in place (a step makes a new object), and a save follows
 * every step: without this, every save encrypted every secret of the whole state again and
 * copied it, which grew with the state (80 ms a save, 2 saves a step, at 16 nodes on 2 cores).
 */
const sealedText = new WeakMap<object, { key: Buffer; text: string }>();

function sealedResource(key: Buffer, resource: StateResource): string {
  const cached = sealedText.get(resource);
  if (cached && cached.key.equals(key)) return cached.text;
  const text = JSON.stringify(sealSecrets(key, resource), null, 1);
  sealedText.set(resource, { key, text });
  return text;
}

/**
 * Writes atomically (rename), so a run killed mid-write leaves the previous complete state. A
 * resource object must not be changed after it was saved (the engine makes a new one per step).
 */
export function saveState(file: string, state: StackState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const key = keyFor(file);
  const { resources, ...rest } = state;
  const fields = Object.entries(sealSecrets(key, rest)).map(
    ([name, value]) => `${JSON.stringify(name)}: ${JSON.stringify(value, null, 1)}`,
  );
  fields.push(`"resources": [\n${resources.map((r) => sealedResource(key, r)).join(",\n")}\n]`);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `{\n${fields.join(",\n")}\n}\n`, { mode: 0o600 });
  fs.renameSync(temp, file);
}

/** Wraps the named top-level outputs in a secret envelope, as the engine does for additionalSecretOutputs. */
export function markSecretOutputs(outputs: Record<string, any>, names: string[]): Record<string, any> {
  const marked = { ...outputs };
  for (const name of names) {
    const value = marked[name];
    if (value !== undefined && !(value && typeof value === "object" && value[SECRET_SIG] !== undefined)) {
      marked[name] = { [SECRET_SIG]: SECRET_MARKER, value };
    }
  }
  return marked;
}
