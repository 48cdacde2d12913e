import { ChildProcessWithoutNullStreams, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** What a remote.Command's `connection` carries, once unwrapped from its secret envelope. */
export interface SshTarget {
  host: string;
  user?: string;
  port?: number;
  privateKey?: string;
  dialErrorLimit?: number;
}

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

const keyFiles = new Map<string, string>();
/** Set for a program run's child: its key files go in the runner's dir, removed however the run ends. */
const KEY_DIR_ENV = "AWS_SWARM_KEY_DIR";
let ownKeyDir: string | undefined;

/** Where ssh's key files go: the runner's dir in a program run's child, else one of this process's own. */
function keyDir(): string {
  const given = process.env[KEY_DIR_ENV];
  if (given) return given;
  ownKeyDir ??= fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-key-"));
  return ownKeyDir;
}

/**
 * Removes this process's key files, which hold private keys; a later ssh writes them again. Run at
 * exit, and after each test file by the cluster tests' setup (Jest's sandbox never sees the exit).
 */
export function removeKeyFiles(): void {
  if (ownKeyDir) fs.rmSync(ownKeyDir, { recursive: true, force: true });
  ownKeyDir = undefined;
  keyFiles.clear();
}
process.on("exit", removeKeyFiles);

function keyFileFor(privateKey: string): string {
  let file = keyFiles.get(privateKey);
  if (!file) {
    file = path.join(keyDir(), `id-${keyFiles.size}`);
    fs.writeFileSync(file, privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`, { mode: 0o600 });
    keyFiles.set(privateKey, file);
  }
  return file;
}

/** The environment for a child process whose key files belong in `dir`. */
export function keyDirEnv(dir: string): Record<string, string> {
  return { [KEY_DIR_ENV]: dir };
}

function sshOnce(target: SshTarget, command: string, stdin: string | undefined): Promise<SshResult> {
  const args = [
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "ConnectTimeout=10",
    "-p",
    String(target.port ?? 22),
  ];
  if (target.privateKey) {
    args.push("-i", keyFileFor(target.privateKey), "-o", "IdentitiesOnly=yes");
  }
  args.push(`${target.user ?? "root"}@${target.host}`, command);
  return collect(spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] }), stdin);
}

/** Feeds `stdin` to a spawned process and resolves with its exit code and output. */
function collect(child: ChildProcessWithoutNullStreams, stdin: string | undefined): Promise<SshResult> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 255, stdout, stderr }));
    child.stdin.end(stdin ?? "");
  });
}

/**
 * Runs a command the way @pulumi/command's remote provider does: dial with retries up to the
 * connection's `dialErrorLimit` (OpenSSH exits 255 when it cannot connect), stdin piped in.
 */
export async function sshRun(target: SshTarget, command: string, stdin?: string): Promise<SshResult> {
  const attempts = Math.max(1, target.dialErrorLimit ?? 10);
  let delayMs = 100;
  for (let attempt = 1; ; attempt++) {
    const result = await sshOnce(target, command, stdin);
    const dialFailed = result.code === 255 && /connect|Connection|banner|kex_exchange/i.test(result.stderr);
    if (!dialFailed || attempt >= attempts) {
      return result;
    }
    await new Promise((r) => setTimeout(r, delayMs));
    delayMs = Math.min(delayMs * 1.5, 5000);
  }
}

/**
 * Runs a local.Command's command the way @pulumi/command's local provider does (command.go `run`):
 * `interpreter` (default `/bin/sh -c`) plus the command, the process environment plus
 * `environment` (plus the previous stdout unless `addPreviousOutputInEnv` is false), `dir` or the
 * current directory, stdin piped in.
 */
export function localRun(inputs: Record<string, any>, command: string, previousStdout?: string): Promise<SshResult> {
  const interpreter: string[] = inputs.interpreter?.length ? inputs.interpreter : ["/bin/sh", "-c"];
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...(inputs.environment ?? {}) };
  if (inputs.addPreviousOutputInEnv !== false && previousStdout) {
    env.PULUMI_COMMAND_STDOUT = previousStdout;
  }
  const child = spawn(interpreter[0], [...interpreter.slice(1), command], {
    cwd: inputs.dir ?? process.cwd(),
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  return collect(child, inputs.stdin);
}
