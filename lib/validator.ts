/** The checks behind `parseConfig`: small, typed, and each reporting instead of throwing. */
import * as fs from "fs";
import * as path from "path";
import { formatCidr, parseCidr } from "./cidr";

export type Reader<T> = (value: unknown, key: string) => T | undefined;

/** Collects every problem of a config, each naming the key as `pulumi config set --path` spells it. */
export class Validator {
  readonly problems: string[] = [];

  report(key: string, message: string): void {
    this.problems.push(`${key} ${message}`);
  }

  /**
   * A key that may be absent, falling back to `fallback` (a documented default). The default
   * goes through the same checks: some depend on the project (files) or on other keys.
   */
  optional<T>(value: unknown, key: string, fallback: T, read: Reader<T>): T | undefined {
    return read(value === undefined ? fallback : value, key);
  }

  required<T>(value: unknown, key: string, read: Reader<T>): T | undefined {
    if (value === undefined) {
      this.report(key, "is required");
      return undefined;
    }
    return read(value, key);
  }

  string(value: unknown, key: string, expected: string): string | undefined {
    if (typeof value !== "string") {
      this.report(key, `must be ${expected}, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  pattern(value: unknown, key: string, rule: RegExp, expected: string): string | undefined {
    const text = this.string(value, key, expected);
    if (text !== undefined && !rule.test(text)) {
      this.report(key, `must be ${expected}, got ${describe(text)}`);
      return undefined;
    }
    return text;
  }

  /** One of a few fixed words, named in the message. */
  oneOf<T extends string>(value: unknown, key: string, choices: readonly T[]): T | undefined {
    const expected = choices.map((c) => `"${c}"`).join(" or ");
    const text = this.string(value, key, expected);
    if (text !== undefined && !(choices as readonly string[]).includes(text)) {
      this.report(key, `must be ${expected}, got ${describe(text)}`);
      return undefined;
    }
    return text as T | undefined;
  }

  maxLength(text: string, key: string, max: number): string | undefined {
    if (text.length > max) {
      this.report(key, `must be at most ${max} characters, got ${text.length} (${describe(text)})`);
      return undefined;
    }
    return text;
  }

  integer(value: unknown, key: string, min: number, max = Infinity, unit = ""): number | undefined {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.report(key, `must be an integer, got ${describe(value)}`);
      return undefined;
    }
    if (value < min || value > max) {
      const suffix = unit ? ` ${unit}` : "";
      const range = max === Infinity ? `at least ${min}` : `between ${min} and ${max}`;
      this.report(key, `must be ${range}${suffix}, got ${value}`);
      return undefined;
    }
    return value;
  }

  boolean(value: unknown, key: string): boolean | undefined {
    if (typeof value !== "boolean") {
      this.report(key, `must be true or false, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  /** An IPv4 CIDR whose address is the network address (AWS rejects host bits). */
  cidr(value: unknown, key: string, prefixRange?: { minPrefix: number; maxPrefix: number }): string | undefined {
    const text = this.string(value, key, "an IPv4 CIDR such as 10.0.0.0/16");
    if (text === undefined) {
      return undefined;
    }
    const cidr = parseCidr(text);
    if (cidr === undefined) {
      const aligned = alignedCidr(text);
      this.report(
        key,
        aligned === undefined
          ? `must be an IPv4 CIDR such as 10.0.0.0/16, got ${describe(text)}`
          : `is not aligned: ${text} has host bits set; did you mean ${aligned}?`,
      );
      return undefined;
    }
    if (prefixRange && (cidr.prefix < prefixRange.minPrefix || cidr.prefix > prefixRange.maxPrefix)) {
      this.report(
        key,
        `must have a prefix between /${prefixRange.minPrefix} and /${prefixRange.maxPrefix}, got ${text}`,
      );
      return undefined;
    }
    return text;
  }

  existingPath(
    value: unknown,
    key: string,
    base: string,
    kind: "file" | "directory",
    where: string,
  ): string | undefined {
    const relative = this.string(value, key, `a path to a ${kind} ${where}`);
    if (relative === undefined || relative.includes("\0")) {
      // A NUL is reported on its own (parseConfig), and the file system calls below throw on it.
      return undefined;
    }
    const full = path.resolve(base, relative);
    // Inside `base` (the project, or an image's build context), also after symlinks: a path
    // outside it differs per checkout and reads files the project doesn't own.
    const inside = (p: string, root: string) => p === root || p.startsWith(root + path.sep);
    const real = (p: string) => (fs.existsSync(p) ? fs.realpathSync(p) : p);
    if (!inside(full, path.resolve(base)) || !inside(real(full), real(path.resolve(base)))) {
      this.report(key, `must stay inside ${path.resolve(base)} (${where}); ${JSON.stringify(relative)} leaves it`);
      return undefined;
    }
    const stat = fs.statSync(full, { throwIfNoEntry: false });
    const found = kind === "file" ? stat?.isFile() : stat?.isDirectory();
    if (!found) {
      this.report(
        key,
        `must name an existing ${kind} ${where}; ${full} ${stat ? `is not a ${kind}` : "does not exist"}`,
      );
      return undefined;
    }
    return relative;
  }

  /** A plain object; `keys` are the only ones allowed in it. */
  object(value: unknown, key: string, keys: string[]): Record<string, unknown> | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.report(key, `must be an object with the keys ${keys.join(", ")}, got ${describe(value)}`);
      return undefined;
    }
    const obj = value as Record<string, unknown>;
    this.knownKeys(obj, keys, (name) => childKey(key, name));
    return obj;
  }

  knownKeys(obj: Record<string, unknown>, keys: string[], keyPath: (name: string) => string): void {
    for (const name of Object.keys(obj)) {
      if (!keys.includes(name)) {
        const guess = closest(name, keys);
        this.report(
          keyPath(name),
          `is not a known key; ${guess ? `did you mean ${guess}?` : `known keys: ${keys.join(", ")}`}`,
        );
      }
    }
  }

  /**
   * A list whose items are all valid, or `undefined`; every item's problems are reported.
   * `uniqueField` names a field of the items that must not repeat.
   */
  list<T>(value: unknown, key: string, readItem: Reader<T>, uniqueField?: string): T[] | undefined {
    if (!Array.isArray(value)) {
      // A common slip: `pulumi config set adminCidrs 1.2.3.4/32` stores a string, not a list.
      const hint =
        typeof value === "string"
          ? `; set items by index: pulumi config set --path '${key.replace(/^[^:]*:/, "")}[0]' …`
          : "";
      this.report(key, `must be a list, got ${describe(value)}${hint}`);
      return undefined;
    }
    const items = value.map((item, i) => readItem(item, `${key}[${i}]`));
    if (uniqueField !== undefined) {
      this.unique(value, key, uniqueField);
    }
    return complete(items);
  }

  /**
   * A map of string values (labels, variables), or `undefined`. `keyProblem` explains why a key
   * is refused. A number or boolean is refused rather than turned into text: YAML (and
   * `pulumi config set --path`) made it from text that may have read differently (`0x10`, `010`,
   * `1e3`, `1_000` and `1.10` are numbers, `yes` and `on` booleans in YAML 1.1), so the user quotes it.
   */
  stringMap(
    value: unknown,
    key: string,
    keyProblem: (name: string) => string | undefined,
  ): Record<string, string> | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.report(key, `must be an object (key: value pairs), got ${describe(value)}`);
      return undefined;
    }
    const entries = Object.entries(value).map(([name, x]) => {
      const entryKey = childKey(key, name);
      const problem = keyProblem(name);
      if (problem !== undefined) {
        this.report(entryKey, problem);
        return undefined;
      }
      if (typeof x === "number") {
        this.report(entryKey, `was read as the number ${x}, which may not be what was written; quote it`);
        return undefined;
      }
      if (typeof x === "boolean") {
        this.report(
          entryKey,
          `was read as the boolean ${x}, which may not be what was written (YAML also reads yes, on, no and off ` +
            `as booleans); quote it ("${x}") in the stack file, or set it with pulumi config set --type string`,
        );
        return undefined;
      }
      const text = this.string(x, entryKey, "a string");
      if (text !== undefined && /[\r\n]/.test(text)) {
        this.report(entryKey, "must not contain a newline");
        return undefined;
      }
      return text === undefined ? undefined : ([name, text] as const);
    });
    const valid = complete(entries);
    return valid === undefined ? undefined : Object.fromEntries(valid);
  }

  /**
   * Reports every item whose `field` repeats an earlier one. Reads the raw items, so a duplicate
   * is reported even when something else in the item is wrong too.
   */
  private unique(items: unknown[], key: string, field: string): void {
    const seen = new Map<unknown, number>();
    items.forEach((item, i) => {
      const name = typeof item === "object" && item !== null ? (item as Record<string, unknown>)[field] : undefined;
      if (typeof name !== "string") {
        return;
      }
      const first = seen.get(name);
      if (first === undefined) {
        seen.set(name, i);
      } else {
        this.report(`${key}[${i}].${field}`, `must be unique: "${name}" is already used by ${key}[${first}]`);
      }
    });
  }
}

/**
 * The key of `name` inside `parent` in `pulumi config set --path` syntax. Keys with '.', spaces
 * and the like need the bracket form, or Pulumi would split them into nested keys.
 */
function childKey(parent: string, name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) ? `${parent}.${name}` : `${parent}[${JSON.stringify(name)}]`;
}

/** The network CIDR of an address/prefix with host bits set ("10.0.0.1/16" → "10.0.0.0/16"). */
function alignedCidr(text: string): string | undefined {
  const [address, prefixText] = text.split("/");
  const host = parseCidr(`${address}/32`);
  const prefix = Number(prefixText);
  if (host === undefined || !/^\d{1,2}$/.test(prefixText ?? "") || prefix > 32) {
    return undefined;
  }
  return formatCidr({ base: host.base - (host.base % 2 ** (32 - prefix)), prefix });
}

/** The value as the user wrote it, shortened: error messages must stay one readable line. */
export function describe(value: unknown): string {
  if (value === null) {
    return "null";
  }
  if (Array.isArray(value)) {
    return "a list";
  }
  if (typeof value === "object") {
    return "an object";
  }
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The candidate a user probably meant: same letters ignoring case, or at most 2 edits away. */
function closest(name: string, candidates: string[]): string | undefined {
  const scored = candidates
    .map((c) => ({ c, d: c.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, c) }))
    .sort((a, b) => a.d - b.d);
  return scored.length > 0 && scored[0].d <= 2 ? scored[0].c : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Returns `fields` when none is undefined, else undefined. Lets sections keep full typing: a
 * section is only assembled from values that all passed validation.
 */
export function complete<T extends object>(fields: T): { [K in keyof T]: Exclude<T[K], undefined> } | undefined {
  return Object.values(fields).every((x) => x !== undefined)
    ? (fields as { [K in keyof T]: Exclude<T[K], undefined> })
    : undefined;
}
