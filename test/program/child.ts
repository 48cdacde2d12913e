/**
 * One run of the program under the engine model, in a process of its own (Pulumi's runtime state
 * is global, so a fresh process per run is the only clean slate, as with a real `pulumi up`).
 * Usage: node -r ts-node/register/transpile-only child.ts <job.json> <result.json>
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Engine } from "./engine/engine";
import { EngineMonitor, installMonitor } from "./engine/monitor";
import { Registration } from "./engine/steps";
import { harnessMachines } from "./machines";
import { nodeKeyOf, ProgramMocks } from "./mocks";
import { unwrapSecrets, ProgramJob, ProgramResult } from "./types";

const PROJECT = "aws-swarm";
const ROOT = path.resolve(__dirname, "..", "..");
const INSTANCE = "aws:ec2/instance:Instance";

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

/** `--replace` targets: a URN, a resource name, or a node key meaning that node's instance. */
function replaceMatcher(job: ProgramJob): (reg: Registration) => boolean {
  const cluster = String(job.config.clusterName ?? job.stack);
  const targets = new Set(job.replace ?? []);
  return (reg) =>
    targets.has(reg.urn) ||
    targets.has(reg.name) ||
    (reg.type === INSTANCE && targets.has(nodeKeyOf(reg.name, cluster)));
}

function setConfig(job: ProgramJob): void {
  const config: Record<string, string> = { "aws:region": "us-east-1" };
  for (const [key, value] of Object.entries(job.config)) {
    config[`${PROJECT}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  pulumi.runtime.setAllConfig(
    config,
    (job.secretKeys ?? []).map((key) => `${PROJECT}:${key}`),
  );
}

async function main() {
  const [jobFile, resultFile] = process.argv.slice(2);
  const job: ProgramJob = JSON.parse(fs.readFileSync(jobFile, "utf8"));
  const mode = job.mode ?? "up";
  const started = Date.now();
  const warnings: string[] = [];
  const engine = new Engine({
    mode,
    stack: job.stack,
    stateFile: job.stateFile,
    replace: replaceMatcher(job),
    oneAtATime: job.oneAtATime === undefined ? undefined : (reg) => new RegExp(job.oneAtATime!).test(reg.name),
    log: (line) => {
      warnings.push(line);
      console.error(line);
    },
  });
  const machines = job.harness
    ? harnessMachines(
        job.harness.id,
        () => engine.machinesInUse(),
        () => engine.retiredMachines(),
      )
    : undefined;
  const mocks = new ProgramMocks(
    job,
    machines,
    (keyName) => {
      const pair = engine
        .resources()
        .find((r) => r.type === "aws:ec2/keyPair:KeyPair" && unwrapSecrets(r.outputs).keyName === keyName);
      return pair ? unwrapSecrets(pair.inputs).publicKey : undefined;
    },
    (instanceId) => engine.resources().find((r) => r.type === INSTANCE && r.id === instanceId)?.machine,
  );
  engine.provider = mocks;
  const monitor = new EngineMonitor(engine, (args) => mocks.call(args));
  // Under mocks there is no engine to take the program's `pulumi.log.warn`: the SDK writes it to
  // console.warn, where the result keeps it as the CLI would show it.
  const consoleWarn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    warnings.push(
      args
        .map(String)
        .join(" ")
        .replace(/^warning: \[runtime\] /, "warning: "),
    );
    consoleWarn(...args);
  };
  setConfig(job);
  installMonitor(monitor, PROJECT, job.stack, mode === "preview");

  const result: ProgramResult = {
    ok: true,
    resources: monitor.recorded,
    outputs: {},
    secretOutputs: [],
    durationMs: 0,
    plan: engine.plan,
    commandsRun: 0,
    checksRun: 0,
    nodeHosts: {},
    warnings,
  };
  let failure: unknown;
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    const failed = monitor.recorded.find((r) => r.error);
    if (failure || failed) {
      result.ok = false;
      result.error = failed ? `${failed.name}: ${failed.error}` : String((failure as Error)?.message ?? failure);
    }
    result.commandsRun = mocks.commandsRun;
    result.checksRun = mocks.checksRun;
    const cluster = String(job.config.clusterName ?? job.stack);
    result.nodeHosts = Object.fromEntries(
      engine
        .resources()
        .filter((r) => r.type === INSTANCE && r.machine)
        .map((r) => [nodeKeyOf(r.name, cluster), r.machine!]),
    );
    result.durationMs = Date.now() - started;
    fs.writeFileSync(resultFile, JSON.stringify(result, null, 1));
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
    if (!engine.destroying) {
      const program = require(path.join(ROOT, "index.ts"));
      const outputs = await program();
      await (pulumi.runtime as any).waitForRPCs();
      // In a preview, changed resources' outputs are unknown: their applies never run.
      if (mode === "up") {
        const { plain, secret } = await resolveOutputs(outputs);
        result.outputs = plain;
        result.secretOutputs = secret;
      }
    }
    if (!monitor.recorded.some((r) => r.error)) {
      await engine.finish();
    }
  } catch (err) {
    failure ??= err;
  }
  write();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
