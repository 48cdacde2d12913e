/**
 * Benchmark 4: a rolling update of the sample's app services under load. The dev config (the
 * `app` pool at 2 workers, as formation's smallest size) is formed on harness hosts (setup, not
 * measured), then a second `pulumi up` whose only change is a new build of the echo image: both
 * app services (hello ×2, world ×3) roll one task at a time, start-first, as stacks/app.yml says.
 * Meanwhile 8 request loops go through the front door (`url`: the load balancer stand-in, then the
 * gateway) to /hello and /world, as the cluster tests send their load. Records the up's duration,
 * the tasks replaced, each service's update times, and what the requests saw.
 */
import * as fs from "fs";
import * as path from "path";
import { nodeKeysOf, onHost, upOnHarness } from "../test/program/harnessRun";
import { fetchRoundRobin, underLoad } from "../test/support/load";
import { devConfigWithApp, withHarnessHosts } from "./harness";
import { planChanges, replacedTasks, serviceUpdates } from "./lib/rolling";
import { perReplica, RollingUpdateRun } from "./lib/results";

const ROOT = path.resolve(__dirname, "..");
const WORKERS = 2;
const SERVICES = ["app_hello", "app_world"];
const CONCURRENCY = 8;
/** Load goes on after the up, for failures of the last replaced tasks' draining. */
const TAIL_MS = 2000;
/** What the second up may change: the image is rebuilt, so the app stack is deployed again. */
const EXPECTED_PLAN = ["replace dev-stack-app-deploy", "update dev-echo-image"];
const CHANGE = "a new build of the echo image (ECHO_VERSION 1 → 2)";

/**
 * A copy of services/echo inside the project (images' contexts must be) whose build answers
 * `version=2`. The engine model diffs a build by its inputs, not the context's files, so the new
 * build shows as a changed `context` where pulumi-docker would see a changed context hash; either
 * way the image is rebuilt and pushed and its new digest redeploys the stack.
 */
function echoV2Context(): string {
  fs.mkdirSync(path.join(ROOT, ".scratch"), { recursive: true });
  const dir = fs.mkdtempSync(path.join(ROOT, ".scratch", "bench-rolling-echo-"));
  fs.cpSync(path.join(ROOT, "services", "echo"), dir, { recursive: true });
  const dockerfile = path.join(dir, "Dockerfile");
  const text = fs.readFileSync(dockerfile, "utf8");
  if (!/^ARG ECHO_VERSION=1$/m.test(text)) throw new Error("services/echo/Dockerfile: no `ARG ECHO_VERSION=1`");
  fs.writeFileSync(dockerfile, text.replace(/^ARG ECHO_VERSION=1$/m, "ARG ECHO_VERSION=2"));
  return dir;
}

const runningTasks = (id: number, manager: string) =>
  onHost(
    id,
    manager,
    `docker service ps --filter desired-state=running --format '{{.ID}} {{.Name}}' ${SERVICES.join(" ")}`,
  );

export async function benchRollingUpdate(id: number, log: (line: string) => void): Promise<RollingUpdateRun> {
  const config = devConfigWithApp(WORKERS);
  const nodes = nodeKeysOf(config).length;
  return withHarnessHosts(id, nodes, "rolling", log, async (_hostsUpMs, hostsStarted) => {
    const context = echoV2Context();
    try {
      const first = await upOnHarness(id, "dev", config);
      log(`rolling: first pulumi up (setup) ${(first.result.durationMs / 1000).toFixed(1)} s`);
      const manager = first.nodeHosts["manager-0"];
      const before = await runningTasks(id, manager);
      const images = config.images.map((image: { name: string }) =>
        image.name === "echo" ? { ...image, context: path.relative(ROOT, context) } : image,
      );
      const url = first.result.outputs.url as string;
      let upReturned = 0;
      const { result: second, ...seen } = await underLoad(
        fetchRoundRobin([`${url}/hello`, `${url}/world`]),
        () => upOnHarness(id, "dev", { ...config, images }).finally(() => (upReturned = Date.now())),
        { concurrency: CONCURRENCY, tailMs: TAIL_MS },
      );
      // Swarm's update times count from the program's own start, as upMs does (the child
      // process's Node start and transpile before it are in neither).
      const programStarted = upReturned - second.result.durationMs;
      const replaced = replacedTasks(before, await runningTasks(id, manager));
      const inspect = `docker service inspect --format '{{.Spec.Name}} {{json .UpdateStatus}}' ${SERVICES.join(" ")}`;
      const run: RollingUpdateRun = {
        ranAt: new Date(hostsStarted).toISOString(),
        workers: WORKERS,
        nodes,
        change: CHANGE,
        plan: planChanges(second.result.plan),
        firstUpMs: first.result.durationMs,
        upMs: second.result.durationMs,
        replicas: Object.values(replaced).reduce((sum, n) => sum + n, 0),
        services: serviceUpdates(await onHost(id, manager, inspect), replaced, programStarted),
        load: { concurrency: CONCURRENCY, tailMs: TAIL_MS, ...seen },
      };
      logRun(run, log);
      // Checked after the figures are logged: a run with another plan still shows what it measured.
      if (run.plan.join() !== EXPECTED_PLAN.join()) {
        throw new Error(`rolling: the second up planned ${run.plan.join(", ")}; expected ${EXPECTED_PLAN.join(", ")}`);
      }
      return run;
    } finally {
      fs.rmSync(context, { recursive: true, force: true });
    }
  });
}

function logRun(run: RollingUpdateRun, log: (line: string) => void): void {
  const s = (ms: number | undefined) => (ms === undefined ? "–" : (ms / 1000).toFixed(1));
  const figures = perReplica(run);
  log(`rolling: plan: ${run.plan.join(", ")}`);
  log(
    `rolling: second pulumi up ${s(run.upMs)} s, ${run.replicas} replicas replaced, ` +
      `${s(figures.upMsPerReplica)} s per replica`,
  );
  for (const [i, service] of run.services.entries()) {
    log(
      `rolling: ${service.service}: ${service.state}, ${service.replicas} replicas, ` +
        `update ${s(service.startMs)} → ${s(service.endMs)} s, ${s(figures.services[i].msPerReplica)} s per replica`,
    );
  }
  log(
    `rolling: requests (${run.load.concurrency} loops): ${run.load.sent} sent, ${run.load.failed} failed ` +
      `${JSON.stringify(run.load.errors)}, versions ${JSON.stringify(run.load.versions)}`,
  );
}
