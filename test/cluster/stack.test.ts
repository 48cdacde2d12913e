import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { renderScript } from "../../lib/scripts";
import { parseDocument } from "yaml";
import { ENCRYPTED_NETWORK_SUFFIX } from "../../lib/compose";
import { contentHash, planStacks, StackPlan, StacksPlan } from "../../lib/stack";
import { GatewayConfig, GatewayRoute, StackConfig } from "../../lib/types";
import { HarnessInfo, buildImage, downHosts, ensureBaseImage, findHost, sshExec, upHosts } from "../harness/hosts";
import { underLoad } from "../support/load";

// The stacks on a real swarm (test/harness), deployed as the program plans them: the gateway's own
// stack, then the sample's infra and app stacks. The gateway routes by Swarm DNS, a scaled-to-zero
// service answers 503, a rolling update under load loses no request, a broken image rolls back
// by itself, old task containers stay within the task history limit, and a renamed network (what
// swarm.encryptOverlay changes; the encryption itself can't run on this kernel) takes every
// service while the old one is removed.
//
//   npx jest --selectProjects cluster test/cluster/stack.test.ts --runInBand
//
// Always harness 3, so it never collides with the other suites. Traffic goes only to the
// harness hosts' addresses (the gateway's host-mode port on the manager).

const HARNESS_ID = 3;
const ROOT = path.join(__dirname, "..", "..");
const TASK_HISTORY_LIMIT = 2;
const STACKS: StackConfig[] = [
  { name: "infra", file: "stacks/infra.yml", variables: {} },
  { name: "app", file: "stacks/app.yml", variables: {} },
];
const ROUTES: GatewayRoute[] = [
  { path: "/hello", service: "hello", port: 8080, stack: "app" },
  { path: "/world", service: "world", port: 8080, stack: "app" },
  { path: "/grafana", service: "grafana", port: 3000, stack: "infra" },
];
/** The gateway's image is the harness base image, known once it is built (beforeAll). */
const GATEWAY: Omit<GatewayConfig, "image"> = {
  port: 80,
  publicCidrs: ["0.0.0.0/0"],
  placement: "managers",
  accessLog: "errors",
  loadBalancer: false,
  routes: ROUTES,
};
/** The manager runs the gateway; two app nodes; one low-memory infra node. */
const LABELS: Record<string, Record<string, string>> = {
  h1: { "aws-swarm.gateway": "true", pool: "manager" },
  h2: { pool: "app" },
  h3: { pool: "app" },
  h4: { pool: "infra", type: "low-memory" },
};

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let info: HarnessInfo;
const images: Record<string, string> = {};
const timings: string[] = [];

/** What other hosts dial (swarm advertise/join addresses). */
function privateIpOf(host: string): string {
  return findHost(info, host).privateIp;
}

/** What the runner dials, as from outside AWS. */
function publicIpOf(host: string): string {
  return findHost(info, host).publicIp;
}

async function sh(host: string, command: string, stdin?: string): Promise<Result> {
  const r = await sshExec(info, host, command, stdin);
  return { code: r.code, stdout: r.stdout.replace(/\n$/, ""), stderr: r.stderr };
}

async function must(host: string, command: string, stdin?: string): Promise<string> {
  const r = await sh(host, command, stdin);
  if (r.code !== 0) throw new Error(`'${command}' on ${host} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Builds services/echo (FROM the harness base image) with other ARG defaults; pushes it. */
async function buildEcho(tag: string, args: Record<string, string>): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `echo-${tag}-`));
  try {
    fs.copyFileSync(path.join(ROOT, "services/echo/server.py"), path.join(dir, "server.py"));
    let dockerfile = fs.readFileSync(path.join(ROOT, "services/echo/Dockerfile"), "utf8");
    for (const [name, value] of Object.entries(args)) {
      dockerfile = dockerfile.replace(new RegExp(`^ARG ${name}=.*$`, "m"), `ARG ${name}=${value}`);
    }
    fs.writeFileSync(path.join(dir, "Dockerfile"), dockerfile);
    return (await buildImage(`aws-swarm/echo:${tag}`, dir, HARNESS_ID)).trim();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What the program plans for the sample: the gateway's stack, infra, app. The gateway's encrypted
 * network is created without the option here: this kernel has no IPsec ESP (CONFIG_INET_ESP
 * unset, no modules; see test/harness/README.md "Limits"), so an encrypted overlay passes no
 * traffic between hosts, and the routed services use it once the setting is on.
 */
function planSample(routes = ROUTES, encryptOverlay = false): StacksPlan {
  const plan = planStacks({
    stacks: STACKS.map((stack) => ({ ...stack, variables: { GRAFANA_IMAGE: images.v1 } })),
    gateway: { ...GATEWAY, image: images.base, routes },
    encryptOverlay,
    composeFiles: Object.fromEntries(
      STACKS.map((stack) => [stack.name, fs.readFileSync(path.join(ROOT, stack.file), "utf8")]),
    ),
    imageVariables: { ECHO_IMAGE: images.v1 },
    convergeTimeout: 240,
  });
  return { ...plan, gateway: unencrypted(plan.gateway) };
}

/** A deploy whose networks are declared without the `encrypted` option (the kernel here has no ESP). */
function unencrypted(stack: StackPlan): StackPlan {
  const doc = parseDocument(stack.compose, { version: "1.1" });
  const networks = doc.get("networks") as { items: { key: unknown }[] } | undefined;
  for (const { key } of networks?.items ?? []) {
    doc.deleteIn(["networks", String(key), "driver_opts"]);
  }
  const compose = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  return { ...stack, compose, env: { ...stack.env, COMPOSE_B64: Buffer.from(compose).toString("base64") } };
}

/**
 * What `swarm.encryptOverlay: true` plans, minus the `encrypted` option itself (see planSample):
 * what is left is what the setting changes about the deploys, every network's new name.
 */
function renamedNetworksPlan(): StacksPlan {
  const plan = planSample(ROUTES, true);
  expect(parseDocument(plan.stacks[1].compose).getIn(["networks", "app", "name"])).toBe(
    `app_app${ENCRYPTED_NETWORK_SUFFIX}`,
  );
  return { ...plan, stacks: plan.stacks.map(unencrypted) };
}

/** deploy-stack.sh exactly as the program runs it: `sudo bash -s [verb]`, script on stdin. */
async function deployStack(verb: "deploy" | "remove", env: Record<string, string>): Promise<Result> {
  return sh("h1", `sudo bash -s ${verb}`, renderScript("deploy-stack", env));
}

/**
 * The program's deploy steps in their order: the gateway's stack, then each stack. Stops at the
 * first failure; stdout is one summary line per deploy.
 */
async function deployAll(plan: StacksPlan): Promise<Result> {
  const results: Result[] = [];
  for (const stack of [plan.gateway, ...plan.stacks]) {
    const r = await deployStack("deploy", stack.env);
    results.push(r);
    if (r.code !== 0) break;
  }
  return {
    code: results.find((r) => r.code !== 0)?.code ?? 0,
    stdout: results.map((r) => r.stdout).join("\n"),
    stderr: results.map((r) => r.stderr).join(""),
  };
}

/** Every deploy's JSON summary, by stack. */
function summaries(r: Result): Record<string, { converged: boolean; seconds: number; services: object }> {
  const lines = r.stdout.split("\n").map((line) => JSON.parse(line));
  return Object.fromEntries(lines.map(({ stack, ...rest }) => [stack, rest]));
}

/** update-image.sh as a user runs it on a manager (installed there in beforeAll). */
async function updateImage(service: string, image: string): Promise<Result> {
  return sh("h1", `update-image.sh ${service} ${image}`);
}

interface Reply {
  status: number;
  body: string;
  ms: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function get(urlPath: string, timeoutMs = 5000): Promise<Reply> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: publicIpOf("h1"), port: GATEWAY.port, path: urlPath, agent, timeout: timeoutMs },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, ms: Date.now() - started }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

async function waitFor<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function timed(label: string, started: number, extra = ""): number {
  const seconds = (Date.now() - started) / 1000;
  const line = `${label}: ${seconds.toFixed(1)} s${extra ? ` (${extra})` : ""}`;
  timings.push(line);
  console.log(line);
  return seconds;
}

async function serviceImage(service: string): Promise<string> {
  return must(
    "h1",
    `docker service inspect --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' ${service} </dev/null`,
  );
}

beforeAll(async () => {
  const started = Date.now();
  info = await upHosts(4, HARNESS_ID);
  // A swarm by hand (the program's swarm-init/join scripts are tested elsewhere).
  await must(
    "h1",
    `docker swarm init --advertise-addr ${privateIpOf("h1")} --task-history-limit ${TASK_HISTORY_LIMIT} ` +
      `--default-addr-pool 10.128.0.0/12 >/dev/null </dev/null`,
  );
  const token = await must("h1", "docker swarm join-token -q worker </dev/null");
  await Promise.all(
    ["h2", "h3", "h4"].map((h) =>
      must(h, `docker swarm join --token ${token} ${privateIpOf("h1")}:2377 >/dev/null </dev/null`),
    ),
  );
  for (const [host, labels] of Object.entries(LABELS)) {
    const flags = Object.entries(labels)
      .map(([k, v]) => `--label-add ${k}=${v}`)
      .join(" ");
    await must("h1", `docker node update ${flags} ${host} >/dev/null </dev/null`);
  }
  await must(
    "h1",
    "cat >/usr/local/bin/update-image.sh && chmod 755 /usr/local/bin/update-image.sh",
    fs.readFileSync(path.join(ROOT, "scripts/update-image.sh"), "utf8"),
  );
  timed("swarm of 4 hosts formed", started);

  const built = Date.now();
  images.base = (await ensureBaseImage(HARNESS_ID)).trim();
  images.v1 = await buildEcho("v1", { ECHO_VERSION: "v1" });
  images.v2 = await buildEcho("v2", { ECHO_VERSION: "v2" });
  images.v3 = await buildEcho("v3", { ECHO_VERSION: "v3" });
  images.broken = await buildEcho("broken", { ECHO_VERSION: "broken", ECHO_HEALTHY: "0" });
  timed("echo images built and pushed", built, Object.values(images).join(", "));
}, 900000);

afterAll(async () => {
  agent.destroy();
  console.log(`timings:\n  ${timings.join("\n  ")}`);
  if (info && !process.env.KEEP_HARNESS) {
    await downHosts(HARNESS_ID);
  }
}, 300000);

describe("stack on a real swarm", () => {
  test("deploy-stack.sh deploys the gateway's stack, then infra, then app, each waiting until it runs", async () => {
    // WHEN
    const started = Date.now();
    const r = await deployAll(planSample());
    // THEN
    if (r.code !== 0) throw new Error(`deploy failed (${r.code}):\n${r.stderr}`);
    const summary = summaries(r);
    timed("initial deploys converged", started, `scripts say ${Object.values(summary).map((s) => s.seconds)} s`);
    expect(summary).toEqual({
      "aws-swarm": expect.objectContaining({
        converged: true,
        services: { "aws-swarm_gateway": { running: 1, desired: 1 } },
      }),
      infra: expect.objectContaining({ converged: true, services: { infra_grafana: { running: 1, desired: 1 } } }),
      app: expect.objectContaining({
        converged: true,
        services: { app_hello: { running: 2, desired: 2 }, app_world: { running: 3, desired: 3 } },
      }),
    });
    // Placement: hello/world on the app pool, grafana on the low-memory node, gateway on h1.
    const placed = await must(
      "h1",
      "docker service ps aws-swarm_gateway app_hello app_world infra_grafana --filter desired-state=running " +
        "--format '{{.Name}} {{.Node}}' </dev/null",
    );
    for (const line of placed.split("\n")) {
      const [task, node] = line.split(" ");
      if (/^app_(hello|world)\./.test(task)) expect(["h2", "h3"]).toContain(node);
      if (task.startsWith("infra_grafana.")) expect(node).toBe("h4");
      if (task.startsWith("aws-swarm_gateway.")) expect(node).toBe("h1");
    }
  });

  test("the gateway's network holds exactly the gateway and the routed services", async () => {
    const id = await must("h1", "docker network inspect --format '{{.Id}}' aws-swarm-gateway </dev/null");
    const services = (await must("h1", "docker service ls --format '{{.Name}}' </dev/null")).split("\n").sort();
    const on = [];
    for (const service of services) {
      const targets = await must(
        "h1",
        `docker service inspect --format '{{range .Spec.TaskTemplate.Networks}}{{println .Target}}{{end}}' ${service} </dev/null`,
      );
      if (targets.split("\n").includes(id)) on.push(service);
    }
    expect(on).toEqual(["app_hello", "app_world", "aws-swarm_gateway", "infra_grafana"]);
  });

  test("a second deploy of the same files changes no service spec", async () => {
    const specs = () =>
      must(
        "h1",
        "docker service inspect --format '{{.Spec.Name}} {{json .Spec.TaskTemplate}}' aws-swarm_gateway app_hello app_world infra_grafana </dev/null",
      );
    const before = await specs();
    const started = Date.now();
    const r = await deployAll(planSample());
    expect(r.code).toBe(0);
    expect(Object.values(summaries(r)).map((s) => s.converged)).toEqual([true, true, true]);
    timed("re-deploy (no change)", started);
    expect(await specs()).toBe(before);
  });

  test("each route answers with its own service, through the gateway's host-mode port", async () => {
    const started = Date.now();
    // The gateway resolves every second; the first answers can still be 503 while checks rise.
    await waitFor("all routes up", 60, async () => {
      const replies = await Promise.all(["/hello", "/world", "/grafana"].map((p) => get(p)));
      return replies.every((r) => r.status === 200) ? true : undefined;
    });
    timed("routes up after deploy", started);
    const seen: Record<string, Set<string>> = { hello: new Set(), world: new Set() };
    for (let i = 0; i < 30; i++) {
      for (const service of ["hello", "world"]) {
        const reply = await get(`/${service}/some/path?x=1`);
        expect(reply.status).toBe(200);
        expect(reply.body).toMatch(
          new RegExp(`^service=${service} task=app_${service}\\.\\d+\\.\\S+ .* path=/${service}/some/path`),
        );
        seen[service].add(/task=(\S+)/.exec(reply.body)![1]);
      }
    }
    // Load-balanced over every task (2 and 3 replicas).
    expect(seen.hello.size).toBe(2);
    expect(seen.world.size).toBe(3);
    expect((await get("/grafana/api/health")).body).toMatch(/^service=grafana /);
    expect(await get("/nowhere")).toMatchObject({ status: 404, body: "404 no route for /nowhere\n" });
    expect(await get("/healthz")).toMatchObject({ status: 200, body: "ok\n" });
    // Prefixes match on segment boundaries.
    expect((await get("/helloworld")).status).toBe(404);
  });

  test("a route whose service is scaled to 0 answers 503 at once, and recovers", async () => {
    // WHEN
    const started = Date.now();
    await must("h1", "docker service scale --detach app_hello=0 >/dev/null </dev/null");
    const reply = await waitFor("503 on /hello", 60, async () => {
      const r = await get("/hello");
      return r.status === 503 ? r : undefined;
    });
    timed("hello scaled to 0 → 503", started, `answered in ${reply.ms} ms`);
    // THEN
    expect(reply.body).toBe("503 no healthy task of service hello for route /hello\n");
    const again = await get("/hello");
    expect(again.status).toBe(503);
    expect(again.ms).toBeLessThan(1000);
    expect((await get("/world")).status).toBe(200);

    const back = Date.now();
    await must("h1", "docker service scale --detach app_hello=2 >/dev/null </dev/null");
    await waitFor("hello back", 90, async () => ((await get("/hello")).status === 200 ? true : undefined));
    timed("hello scaled back to 2 → 200", back);
  });

  test("a rolling update under steady load loses no request", async () => {
    // WHEN
    const started = Date.now();
    const load = await underLoad(
      () => get("/world"),
      () => updateImage("world", images.v2),
      { tailMs: 3000 },
    );
    const seconds = timed("rolling update world v1 → v2 under load", started);
    // THEN
    console.log(
      `rolling update: ${load.sent} sent, ${load.failed} failed; versions seen ${JSON.stringify(load.versions)}; errors ${JSON.stringify(load.errors)}`,
    );
    expect(load.result.code).toBe(0);
    expect(JSON.parse(load.result.stdout)).toMatchObject({ service: "app_world", state: "completed" });
    expect(load.errors).toEqual({});
    expect(load.failed).toBe(0);
    expect(load.sent).toBeGreaterThan(100);
    expect(load.versions.v2).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(300);
    expect(await serviceImage("app_world")).toMatch(/echo:v2@sha256:/);
    for (let i = 0; i < 6; i++) expect((await get("/world")).body).toMatch(/version=v2 /);
  });

  test("an update to an image that never gets healthy rolls back by itself; traffic keeps flowing", async () => {
    // WHEN
    const before = await serviceImage("app_world");
    const started = Date.now();
    const load = await underLoad(
      () => get("/world"),
      () => updateImage("world", images.broken),
      { tailMs: 3000 },
    );
    timed("broken update of world rolled back", started, `state ${JSON.parse(load.result.stdout || "{}").state}`);
    // THEN
    console.log(
      `during the failed update: ${load.sent} sent, ${load.failed} failed; versions seen ${JSON.stringify(load.versions)}; errors ${JSON.stringify(load.errors)}`,
    );
    expect(load.result.code).toBe(1);
    expect(load.result.stderr).toMatch(/rollback completed|rollback_completed/);
    expect(JSON.parse(load.result.stdout)).toMatchObject({ state: "rollback_completed" });
    expect(load.failed).toBe(0);
    expect(load.versions.broken).toBeUndefined();
    expect(await serviceImage("app_world")).toBe(before);
  });

  test("after several updates, old task containers stay within the task history limit", async () => {
    // WHEN two more updates (v2 → v3 → v1); world has seen v1, v2, broken, v2, v3, v1.
    const started = Date.now();
    for (const tag of ["v3", "v1"]) {
      const r = await updateImage("world", images[tag]);
      expect(r.code).toBe(0);
    }
    timed("two more updates of world", started);
    // THEN at most `limit` tasks per replica slot, the running one included, remain.
    const allowed = 3 * (TASK_HISTORY_LIMIT - 1);
    const count = async () => {
      const counts = await Promise.all(
        ["h2", "h3"].map((h) =>
          must(
            h,
            "docker ps -a --filter label=com.docker.swarm.service.name=app_world --format '{{.State}}' </dev/null",
          ),
        ),
      );
      const states = counts.join("\n").split("\n").filter(Boolean);
      return { total: states.length, old: states.filter((s) => s !== "running").length };
    };
    // Replaced tasks stop within their grace period; then the reaper has the last word.
    const settled = await waitFor(`3 running and ≤ ${allowed} old world containers`, 90, async () => {
      const c = await count();
      return c.total - c.old === 3 && c.old <= allowed ? c : undefined;
    }).catch(async (error) => {
      console.log(`containers now: ${JSON.stringify(await count())}`);
      throw error;
    });
    console.log(
      `task history: ${settled.old} old containers of app_world (limit ${TASK_HISTORY_LIMIT} → at most ${allowed}), ${settled.total - settled.old} running`,
    );
    expect(settled.total - settled.old).toBe(3);
    const tasks = await must("h1", "docker service ps app_world --format '{{.Name}}' </dev/null");
    expect(tasks.split("\n").length).toBeLessThanOrEqual(3 * TASK_HISTORY_LIMIT);
  });

  test("renamed networks (what swarm.encryptOverlay toggles) take every service under load with no failed request, the old ones go; and back", async () => {
    const stackNetworks = () =>
      must("h1", "docker network ls --filter label=com.docker.stack.namespace --format '{{.Name}}' </dev/null").then(
        (out) => out.split("\n").filter(Boolean).sort(),
      );
    const serviceNetworks = () =>
      must(
        "h1",
        "docker service inspect --format '{{range .Spec.TaskTemplate.Networks}}{{.Target}} {{end}}' " +
          "app_hello app_world </dev/null",
      ).then((out) => [...new Set(out.split("\n"))]);
    const networkId = (name: string) => must("h1", `docker network inspect --format '{{.Id}}' ${name} </dev/null`);
    const routesUp = () =>
      waitFor("/hello and /world answering", 90, async () => {
        const replies = await Promise.all(["/hello", "/world"].map((p) => get(p)));
        return replies.every((r) => r.status === 200) ? true : undefined;
      });
    /**
     * Deploys `plan` under a small load (4 loops over /hello and /world, 10 ms apart) and reports
     * when requests failed, if any. The routes must answer afterwards.
     */
    const toggle = async (label: string, plan: StacksPlan) => {
      const started = Date.now();
      const failedAt: number[] = [];
      const load = await underLoad(
        async (n) => {
          await new Promise((r) => setTimeout(r, 10));
          const reply = await get(n % 2 ? "/hello" : "/world").catch((error: Error) => {
            failedAt.push(Date.now() - started);
            throw error;
          });
          if (reply.status !== 200) failedAt.push(Date.now() - started);
          return reply;
        },
        () => deployAll(plan),
        { concurrency: 4, tailMs: 2000 },
      );
      if (load.result.code !== 0) throw new Error(`deploy failed (${load.result.code}):\n${load.result.stderr}`);
      timed(label, started, `scripts say ${Object.values(summaries(load.result)).map((s) => s.seconds)} s`);
      const failingSeconds = new Set(failedAt.map((ms) => Math.floor(ms / 100))).size / 10;
      const window = failedAt.length ? `${failedAt[0] / 1000} s – ${failedAt[failedAt.length - 1] / 1000} s` : "none";
      console.log(
        `${label}: ${load.sent} requests sent, ${load.failed} failed; failures from ${window} after the deploy ` +
          `started, in ${failingSeconds} s of it (100 ms slots); errors ${JSON.stringify(load.errors)}`,
      );
      await routesUp();
      return load;
    };
    // The gateway is on both of its networks throughout; the stacks' own networks are renamed.
    const GATEWAY_NETWORKS = ["aws-swarm-gateway", "aws-swarm-gateway-encrypted"];
    const PLAIN = ["app_app", "infra_default"];
    const ENCRYPTED = PLAIN.map((name) => `${name}${ENCRYPTED_NETWORK_SUFFIX}`);
    const withGateway = (names: string[]) => [...names, ...GATEWAY_NETWORKS].sort();
    const bothOf = async (names: string[]) => [`${await networkId(names[0])} ${await networkId(names[1])} `];
    expect(await stackNetworks()).toEqual(withGateway(PLAIN));

    // WHEN the networks are renamed
    const on = await toggle("networks renamed to *-encrypted", renamedNetworksPlan());
    // THEN every service is on the new networks and the old ones are gone, from every host.
    expect(await stackNetworks()).toEqual(withGateway(ENCRYPTED));
    // The gateway reached the old tasks and the new ones all along: each service rolled start-first.
    expect(on.failed).toBe(0);
    expect(await serviceNetworks()).toEqual(await bothOf(["app_app-encrypted", "aws-swarm-gateway-encrypted"]));
    for (const name of PLAIN) {
      expect(on.result.stderr).toMatch(`removed network ${name}: no service uses it any more`);
    }
    await waitFor("the old networks gone from every host", 60, async () => {
      const lists = await Promise.all(
        ["h1", "h2", "h3", "h4"].map((h) => must(h, "docker network ls --format '{{.Name}}' </dev/null")),
      );
      return lists.every((list) => PLAIN.every((name) => !list.split("\n").includes(name))) ? true : undefined;
    });

    // WHEN the same files are deployed again: nothing left to remove.
    const again = await deployAll(renamedNetworksPlan());
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/removed network/);

    // WHEN renamed back (the setting turned off)
    const off = await toggle("networks renamed back", planSample());
    // THEN
    expect(await stackNetworks()).toEqual(withGateway(PLAIN));
    expect(off.failed).toBe(0);
    for (const name of ENCRYPTED) {
      expect(off.result.stderr).toMatch(`removed network ${name}: no service uses it any more`);
    }
    expect(await serviceNetworks()).toEqual(await bothOf(["app_app", "aws-swarm-gateway"]));
  });

  test("a routing change re-deploys the gateway with a new config object", async () => {
    const before = await must("h1", "docker config ls --format '{{.Name}}' </dev/null");
    const started = Date.now();
    const plan = planSample([...ROUTES, { path: "/hello/v2", service: "world", port: 8080, stack: "app" }]);
    const r = await deployAll(plan);
    if (r.code !== 0) throw new Error(`deploy failed (${r.code}):\n${r.stderr}`);
    const config = `aws-swarm_gateway-${contentHash(plan.haproxyConfig)}`;
    expect(await must("h1", "docker config ls --format '{{.Name}}' </dev/null")).toMatch(config);
    expect(before).not.toMatch(config);
    await waitFor("the new route", 60, async () =>
      (await get("/hello/v2/x")).body.startsWith("service=world") ? true : undefined,
    );
    timed("routing change deployed (gateway stop-first)", started);
    expect((await get("/hello/x")).body).toMatch(/^service=hello /);
  });

  test("remove: docker stack rm, and its networks are gone", async () => {
    const started = Date.now();
    const r = await deployStack("remove", { STACK_NAME: "app" });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ stack: "app", removed: true });
    timed("stack removed", started);
    expect(await must("h1", "docker network ls -q --filter label=com.docker.stack.namespace=app </dev/null")).toBe("");
    // The gateway keeps its routes: with no task left they answer 503 at once; infra's still answers.
    const gone = await waitFor("503 on /hello", 30, async () => {
      const reply = await get("/hello");
      return reply.status === 503 ? reply : undefined;
    });
    expect(gone.body).toBe("503 no healthy task of service hello for route /hello\n");
    expect((await get("/grafana/api/health")).status).toBe(200);
    // Again: nothing left to remove is fine.
    expect((await deployStack("remove", { STACK_NAME: "app" })).code).toBe(0);
  });
});
