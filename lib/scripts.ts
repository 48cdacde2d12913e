import * as fs from "fs";
import * as path from "path";

/** Directory of the node-side shell scripts shipped with the program. */
export const SCRIPTS_DIR = path.join(__dirname, "..", "scripts");

const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;

/** `source "$(dirname "${BASH_SOURCE[0]}")/lib/x.sh"`: works from the repository, not on stdin. */
const SOURCE_LINE =
  /^(?:# shellcheck source=\S+\n)?source "\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)\/(lib\/[a-z-]+\.sh)"$/gm;

/** Quotes a value for bash so that it is taken literally, newlines included. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Renders `scripts/<name>.sh` with its parameters as `export` lines right after the shebang, and
 * the shared `scripts/lib/*.sh` it sources inlined, so that the text stands on its own.
 *
 * Every remote command runs a script as `sudo bash -s [verb]` with the rendered text on stdin, so
 * parameters (join tokens included) never appear in a command line, a process list, an error
 * message or the `pulumi up` log; the stdin input is a secret whenever any parameter is.
 */
export function renderScript(name: string, env: Record<string, string> = {}): string {
  const text = fs
    .readFileSync(path.join(SCRIPTS_DIR, `${name}.sh`), "utf8")
    .replace(SOURCE_LINE, (_, lib: string) => fs.readFileSync(path.join(SCRIPTS_DIR, lib), "utf8").trimEnd());
  const newline = text.indexOf("\n");
  if (!text.startsWith("#!") || newline < 0) {
    throw new Error(`scripts/${name}.sh must start with a shebang line`);
  }
  const prelude = Object.keys(env)
    .sort()
    .map((key) => {
      if (!ENV_NAME.test(key)) {
        throw new Error(`script parameter "${key}" of ${name}.sh is not an UPPER_CASE name`);
      }
      return `export ${key}=${shellQuote(env[key])}\n`;
    })
    .join("");
  return text.slice(0, newline + 1) + prelude + text.slice(newline + 1);
}
