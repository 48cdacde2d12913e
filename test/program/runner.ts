import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { keyDirEnv } from "./ssh";
import { ProgramJob, ProgramResult } from "./types";

const CHILD = path.join(__dirname, "child.ts");

/** Thrown when `killWhen` stopped the run: as if `pulumi up` were killed (SIGKILL) mid-run. */
export class ProgramKilled extends Error {}

/**
 * Runs the program once under mocks in a fresh Node process and returns what it registered.
 * `killWhen`, polled every 100 ms, kills the run's whole process group (the runner and the ssh
 * and shell processes of its commands) the way a killed `pulumi up` dies.
 */
export async function runProgram(
  job: ProgramJob,
  log: (line: string) => void = () => {},
  killWhen?: () => boolean,
): Promise<ProgramResult> {
  // The job holds the stack's secret config (the SSH private key): owner-only, and removed
  // however the run ends, killed or failed included.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-run-"));
  try {
    return await runIn(dir, job, log, killWhen);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function runIn(
  dir: string,
  job: ProgramJob,
  log: (line: string) => void,
  killWhen: (() => boolean) | undefined,
): Promise<ProgramResult> {
  const jobFile = path.join(dir, "job.json");
  const resultFile = path.join(dir, "result.json");
  fs.writeFileSync(jobFile, JSON.stringify(job), { mode: 0o600 });
  const output: string[] = [];
  let killed = false;
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", CHILD, jobFile, resultFile], {
      cwd: path.resolve(__dirname, "..", ".."),
      env: {
        ...process.env,
        ...keyDirEnv(dir),
        TS_NODE_PROJECT: path.resolve(__dirname, "..", "..", "tsconfig.json"),
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: killWhen !== undefined,
    });
    const poll = killWhen
      ? setInterval(() => {
          if (!killWhen()) return;
          clearInterval(poll);
          killed = true;
          process.kill(-child.pid!, "SIGKILL");
        }, 100)
      : undefined;
    child.on("exit", () => clearInterval(poll));
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n").filter(Boolean)) {
        output.push(line);
        log(line);
      }
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("close", (status) => resolve(status ?? 1));
  });
  if (killed) {
    throw new ProgramKilled(`the run was killed (exit ${code})`);
  }
  // Pulumi's own exit hook sets status 1 when a failed step left dependents waiting; the result
  // file still says which step failed.
  if (!fs.existsSync(resultFile)) {
    throw new Error(`program run failed (exit ${code}):\n${output.slice(-40).join("\n")}`);
  }
  return JSON.parse(fs.readFileSync(resultFile, "utf8")) as ProgramResult;
}
