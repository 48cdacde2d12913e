/**
 * A local `pulumi` for a local swarm: the real program with only AWS mocked, planned against a
 * per-stack state like the Pulumi engine (test/program/engine). Linux and root only.
 *   npm run cluster:up -- --config Pulumi.dev.yaml [--stack [name=]stacks/app.yml]… [--id 5] [--replace app-0]…
 *     (each --stack replaces the config's stacks, in order; the name defaults to the file's base name)
 *   npm run cluster:preview -- --config Pulumi.dev.yaml [--id 5]
 *   npm run cluster:destroy -- [--id 5] [--config Pulumi.dev.yaml] [--preview-only]
 *   npm run cluster:fault -- [--id 5] --node app-0 poweroff|poweron|partition|heal|restart-docker|reboot
 *   npm run cluster:down -- [--id 5]
 */
import * as fs from "fs";
import * as path from "path";
import { downHosts, readHarnessInfo, upHosts } from "./hosts";
import { loadState } from "../program/engine/state";
import { planLineText, planSummary } from "../program/engine/steps";
import { ClusterRun, nodeKeysOf, readHosts, readStackConfig, stateFileOf, upOnHarness } from "../program/harnessRun";
import { fault, FaultVerb } from "../program/machines";
import { nodeKeyOf } from "../program/mocks";

const DEFAULT_ID = 5;
const FAULTS: FaultVerb[] = ["poweroff", "poweron", "partition", "heal", "restart-docker", "reboot"];

function argument(args: string[], flag: string): string | undefined {
  const index = args.indexOf(flag);
  return index >= 0 ? args[index + 1] : undefined;
}

function all(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag && args[i + 1] ? [args[i + 1]] : []));
}

function stackOf(configFile: string): string {
  return path.basename(configFile).replace(/^Pulumi\.(.*)\.yaml$/, "$1") || "local";
}

/** The stack: from --config, else the only stack with state on this harness. */
function stackFor(args: string[], id: number): string {
  const configFile = argument(args, "--config");
  if (configFile) return stackOf(configFile);
  const dir = path.dirname(stateFileOf(id, "x"));
  const stacks = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".json"))
        .map((f) => f.slice(0, -5))
    : [];
  if (stacks.length !== 1) {
    throw new Error(`harness ${id} has ${stacks.length} stacks (${stacks.join(", ")}): name one with --config`);
  }
  return stacks[0];
}

function configFor(args: string[]): Record<string, any> {
  const config = readStackConfig(argument(args, "--config") ?? "Pulumi.dev.yaml");
  const files = all(args, "--stack");
  if (files.length > 0) {
    delete config.stack;
    config.stacks = files.map((spec) => {
      const [name, file] = spec.includes("=") ? spec.split("=", 2) : [path.parse(spec).name, spec];
      return { name, file: path.relative(process.cwd(), path.resolve(file)) };
    });
  }
  return config;
}

function printPlan(run: ClusterRun): void {
  for (const warning of run.result.warnings) console.log(warning);
  for (const line of run.result.plan.filter((l) => l.op !== "same")) console.log(planLineText(line));
  console.log(planSummary(run.result.plan));
}

function failIfFailed(run: ClusterRun): void {
  if (!run.result.ok) throw new Error(`the run failed: ${run.result.error}`);
}

async function up(args: string[], id: number) {
  const configFile = argument(args, "--config") ?? "Pulumi.dev.yaml";
  const stack = stackOf(configFile);
  const config = configFor(args);
  if (!readHarnessInfo(id)) {
    // The nodes' hosts now; any later instance gets a fresh host when it is created.
    const n = nodeKeysOf(config).length;
    console.error(`starting ${n} hosts (harness ${id}) …`);
    await upHosts(n, id, { outliveProcess: true });
  }
  const replace = all(args, "--replace");
  // Like `pulumi up`: a preview first, then the update.
  const preview = await upOnHarness(id, stack, config, { mode: "preview", replace, allowFailure: true });
  failIfFailed(preview);
  printPlan(preview);
  const run = await upOnHarness(id, stack, config, { replace, log: (line) => console.error(line), allowFailure: true });
  console.log(`remote commands run: ${run.result.commandsRun}`);
  // The program's own warnings (a node Down, an instance type not applied), as `pulumi up` shows them.
  for (const warning of run.result.warnings) console.log(warning);
  failIfFailed(run);
  const hosts = readHosts(id);
  const outputs = run.result.outputs;
  console.log(`swarm ${outputs.swarmId} is up in ${(run.result.durationMs / 1000).toFixed(0)} s`);
  // The load balancer's stand-in without gatewayUrls; the nodes themselves with them.
  console.log(`url: ${outputs.url}`);
  for (const url of (outputs.gatewayUrls as string[] | undefined) ?? []) {
    console.log(`gateway: ${url}`);
  }
  for (const [key, hostName] of Object.entries(run.nodeHosts)) {
    const host = hosts.hosts.find((h) => h.name === hostName)!;
    console.log(
      `${key.padEnd(14)} DOCKER_HOST=ssh://${hosts.sshUser}@${host.publicIp}   (ssh -i ${hosts.privateKeyPath} ${hosts.sshUser}@${host.publicIp})`,
    );
  }
  console.log(`change the config and preview: npm run cluster:preview -- --config ${configFile} --id ${id}`);
  console.log(`destroy: npm run cluster:destroy -- --id ${id}; remove everything: npm run cluster:down -- --id ${id}`);
}

async function preview(args: string[], id: number) {
  const run = await upOnHarness(id, stackOf(argument(args, "--config") ?? "Pulumi.dev.yaml"), configFor(args), {
    mode: "preview",
    replace: all(args, "--replace"),
    allowFailure: true,
  });
  failIfFailed(run);
  printPlan(run);
}

async function destroy(args: string[], id: number) {
  const stack = stackFor(args, id);
  const config = argument(args, "--config") ? configFor(args) : {};
  const previewOnly = args.includes("--preview-only");
  const mode = previewOnly ? "destroy-preview" : "destroy";
  const run = await upOnHarness(id, stack, config, { mode, log: (line) => console.error(line), allowFailure: true });
  printPlan(run);
  if (!previewOnly) console.log(`remote commands run: ${run.result.commandsRun}`);
  failIfFailed(run);
}

async function faultCommand(args: string[], id: number) {
  const verb = args.find((a) => FAULTS.includes(a as FaultVerb)) as FaultVerb | undefined;
  const node = argument(args, "--node");
  if (!verb || !node) throw new Error(`usage: cluster:fault -- [--id N] --node <node key> ${FAULTS.join("|")}`);
  const stack = stackFor(args, id);
  const state = loadState(stateFileOf(id, stack), stack);
  const instance = state.resources.find(
    (r) =>
      r.type === "aws:ec2/instance:Instance" &&
      !r.delete &&
      r.machine &&
      nodeKeyOf(r.name, String(r.inputs.tags?.cluster ?? stack)) === node,
  );
  if (!instance) throw new Error(`stack ${stack} on harness ${id} has no node ${node}`);
  await fault(id, instance.machine!, verb);
  console.log(`${node} (${instance.machine}): ${verb}`);
}

async function main() {
  const [verb, ...args] = process.argv.slice(2);
  if (process.getuid?.() !== 0 || process.platform !== "linux") {
    throw new Error("the local cluster needs Linux and root (network namespaces, one dockerd per host)");
  }
  const id = Number(argument(args, "--id") ?? DEFAULT_ID);
  if (verb === "up") await up(args, id);
  else if (verb === "preview") await preview(args, id);
  else if (verb === "destroy") await destroy(args, id);
  else if (verb === "fault") await faultCommand(args, id);
  else if (verb === "down") await downHosts(id);
  else throw new Error("usage: cli.ts up|preview|destroy|fault|down [--id N] (see the header of test/harness/cli.ts)");
}

main().catch((err) => {
  console.error(`cluster: ${(err as Error).message}`);
  process.exit(1);
});
