import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { sshRun } from "./ssh";
import { ProgramJob, ProgramResult, RecordedResource, unwrapSecrets } from "./types";

const CHILD = path.join(__dirname, "child.ts");

/** Runs the program once under mocks in a fresh Node process and returns what it registered. */
export async function runProgram(job: ProgramJob, log: (line: string) => void = () => {}): Promise<ProgramResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-run-"));
  const jobFile = path.join(dir, "job.json");
  const resultFile = path.join(dir, "result.json");
  fs.writeFileSync(jobFile, JSON.stringify(job));
  const output: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", CHILD, jobFile, resultFile], {
      cwd: path.resolve(__dirname, "..", ".."),
      env: { ...process.env, TS_NODE_PROJECT: path.resolve(__dirname, "..", "..", "tsconfig.json") },
      stdio: ["ignore", "pipe", "pipe"],
    });
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
  // Pulumi's own exit hook sets status 1 when a failed step left dependents waiting; the result
  // file still says which step failed.
  if (!fs.existsSync(resultFile)) {
    throw new Error(`program run failed (exit ${code}):\n${output.slice(-40).join("\n")}`);
  }
  const result: ProgramResult = JSON.parse(fs.readFileSync(resultFile, "utf8"));
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
}

/**
 * What the engine does after an update: run the `delete` of every remote command that the earlier
 * run had and the later one has not, or has with other `triggers` (a replacement: the new one was
 * created first), dependents first (reverse registration order, which respects dependencies).
 * An empty `after` is `pulumi destroy`.
 */
export async function runRemovedDeletes(before: ProgramResult, after?: ProgramResult): Promise<RecordedResource[]> {
  const triggersOf = (r: RecordedResource) => JSON.stringify(unwrapSecrets(r.inputs.triggers ?? null));
  const kept = new Map((after?.resources ?? []).map((r) => [`${r.type}::${r.name}`, triggersOf(r)]));
  const removed = before.resources
    .filter((r) => r.type === "command:remote:Command" && kept.get(`${r.type}::${r.name}`) !== triggersOf(r))
    .reverse();
  for (const resource of removed) {
    const inputs = unwrapSecrets(resource.inputs);
    if (!inputs.delete) {
      continue;
    }
    const result = await sshRun(inputs.connection, inputs.delete, inputs.stdin);
    if (result.code !== 0) {
      throw new Error(`delete of ${resource.name} failed (${result.code}):\n${result.stdout}${result.stderr}`);
    }
  }
  return removed;
}
