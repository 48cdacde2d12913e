/**
 * One run of the program under Pulumi's mocks, in a process of its own (Pulumi's runtime state is
 * global, so a fresh process per run is the only clean slate, as with a real `pulumi up`).
 * Usage: node -r ts-node/register/transpile-only child.ts <job.json> <result.json>
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ProgramMocks } from "./mocks";
import { ProgramJob, ProgramResult } from "./types";

const PROJECT = "aws-swarm";
const ROOT = path.resolve(__dirname, "..", "..");

async function resolveOutputs(outputs: Record<string, unknown>) {
  const plain: Record<string, unknown> = {};
  const secret: string[] = [];
  for (const [key, value] of Object.entries(outputs ?? {})) {
    const output: pulumi.Output<any> = pulumi.output(value as any);
    plain[key] = await new Promise((resolve) => output.apply(resolve));
    if (await pulumi.isSecret(output)) {
      secret.push(key);
    }
  }
  return { plain, secret };
}

async function main() {
  const [jobFile, resultFile] = process.argv.slice(2);
  const job: ProgramJob = JSON.parse(fs.readFileSync(jobFile, "utf8"));
  const started = Date.now();
  const config: Record<string, string> = { "aws:region": "us-east-1" };
  for (const [key, value] of Object.entries(job.config)) {
    config[`${PROJECT}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  pulumi.runtime.setAllConfig(
    config,
    (job.secretKeys ?? []).map((key) => `${PROJECT}:${key}`),
  );
  const mocks = new ProgramMocks(job);
  await pulumi.runtime.setMocks(mocks, PROJECT, job.stack, false);

  const result: ProgramResult = { ok: true, resources: mocks.resources, outputs: {}, secretOutputs: [], durationMs: 0 };
  let failure: unknown;
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    const failed = mocks.resources.find((r) => r.error);
    if (failure || failed) {
      result.ok = false;
      result.error = failed ? `${failed.name}: ${failed.error}` : String((failure as Error)?.message ?? failure);
    }
    result.durationMs = Date.now() - started;
    fs.writeFileSync(resultFile, JSON.stringify(result, null, 1));
  };
  const finish = () => {
    write();
    process.exit(0);
  };
  process.on("unhandledRejection", (reason) => (failure ??= reason));
  // A failed step leaves its dependents waiting forever: when the process ends that way, the
  // result still says which step failed (Pulumi's own exit hook reports leaked promises).
  process.on("exit", () => {
    failure ??= new Error("the program stopped with steps still waiting on a failed dependency");
    write();
    process.exitCode = 0;
  });
  try {
    const program = require(path.join(ROOT, "index.ts"));
    const { plain, secret } = await resolveOutputs(await program());
    result.outputs = plain;
    result.secretOutputs = secret;
    await (pulumi.runtime as any).waitForRPCs();
  } catch (err) {
    failure ??= err;
  }
  finish();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
