/**
 * Benchmark 3: index.ts under the offline mocks for N workers, each run in a fresh child process
 * (test/program/child.ts, as runProgram starts it) wrapped by python3 so that getrusage reports
 * the child's own peak memory, unmixed with the bench's.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { devConfig } from "../test/program/fixtures";
import { ProgramJob, ProgramResult } from "../test/program/types";
import { ProgramEvalRun, splitWorkers } from "./lib/results";

const ROOT = path.resolve(__dirname, "..");
const CHILD = path.join(ROOT, "test", "program", "child.ts");

/**
 * Worker pools in every run: the config allows at most 50 nodes a pool (lib/configNodes.ts), so
 * 300 workers need 6 pools; every size gets the same 6, so that only the counts differ and
 * resources per added worker compare exactly.
 */
export const POOLS = 6;
/** The largest size. */
export const MAX_WORKERS = 300;

// Runs argv, then prints the children's peak RSS (KiB on Linux) and the wall time on stderr's last line.
const WRAPPER = `
import resource, subprocess, sys, time
start = time.monotonic()
code = subprocess.run(sys.argv[1:]).returncode
wall = time.monotonic() - start
sys.stderr.write("\\nBENCH %d %d %.3f\\n" % (code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, wall))
`;

export async function evaluateProgram(workers: number, log: (line: string) => void): Promise<ProgramEvalRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-bench-"));
  const jobFile = path.join(dir, "job.json");
  const resultFile = path.join(dir, "result.json");
  const job: ProgramJob = { stack: "dev", config: devConfig({ workerPools: splitWorkers(workers, POOLS) }) };
  fs.writeFileSync(jobFile, JSON.stringify(job));
  try {
    const stderr = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        "python3",
        ["-c", WRAPPER, process.execPath, "-r", "ts-node/register/transpile-only", CHILD, jobFile, resultFile],
        {
          cwd: ROOT,
          env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") },
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      let text = "";
      child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
      child.on("error", reject);
      child.on("close", () => resolve(text));
    });
    const last = /BENCH (\d+) (\d+) ([\d.]+)\s*$/.exec(stderr);
    if (!last || !fs.existsSync(resultFile)) {
      throw new Error(`program run with ${workers} workers failed:\n${stderr.split("\n").slice(-30).join("\n")}`);
    }
    const result: ProgramResult = JSON.parse(fs.readFileSync(resultFile, "utf8"));
    if (!result.ok) throw new Error(`program run with ${workers} workers failed: ${result.error}`);
    const run: ProgramEvalRun = {
      workers,
      wallMs: Math.round(Number(last[3]) * 1000),
      programMs: result.durationMs,
      maxRssMb: Math.round(Number(last[2]) / 1024),
      resources: result.resources.length,
      commands: result.commandsRun,
    };
    log(
      `program eval: ${workers} workers: wall ${(run.wallMs / 1000).toFixed(2)} s, program ${(run.programMs / 1000).toFixed(2)} s, ` +
        `peak ${run.maxRssMb} MiB, ${run.resources} resources, ${run.commands} remote commands`,
    );
    return run;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
