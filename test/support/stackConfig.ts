import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * `docker stack config` merges and validates compose files offline (the CLI, no daemon): what
 * `docker stack deploy` would make of them. `files` are written to a scratch directory (the `.yml`
 * ones are the compose files, the rest what they read); `env` is all the environment it sees.
 */
export function stackConfig(files: Record<string, string>, env: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-test-"));
  try {
    const args = ["stack", "config"];
    for (const [name, text] of Object.entries(files)) {
      fs.writeFileSync(path.join(dir, name), text);
      if (name.endsWith(".yml")) {
        args.push("-c", name);
      }
    }
    return execFileSync("docker", args, {
      cwd: dir,
      env: { PATH: process.env.PATH, ...env },
      encoding: "utf8",
      stdio: "pipe",
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
