/**
 * The front door (issue 12) on real hosts: the program's Network Load Balancer played by the
 * harness's stand-in (a real HAProxy in TCP/TLS mode, configured from what the program registered:
 * listeners, certificate, target group, health check, targets). Two gateway nodes (the app pool)
 * behind it, a domain served over HTTPS. Every scenario's requests go through the load balancer,
 * with keep-alive connections as real clients keep them; counts and times are printed.
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { downHosts, fault, powerOff, powerOn, readHarnessInfo, stateDir, upHosts } from "../harness/hosts";
import { HEALTH_CHECK, UNHEALTHY_AFTER_SECONDS } from "../../lib/loadBalancer";
import { ClusterRun, onHost, readHosts, readStackConfig, upOnHarness } from "../program/harnessRun";
import { PlanLine } from "../program/engine/steps";
import { fetchTlsRoundRobin, underLoad } from "../support/load";
import { eventually, runningTasks, spreadOver } from "../support/tasks";

const HARNESS = 8;
const DOMAIN = "app.aws-swarm.test";
const dev = readStackConfig(path.join(__dirname, "..", "..", "Pulumi.dev.yaml"));
const front = {
  ...dev,
  clusterName: "front",
  workerPools: [
    { name: "infra", count: 1, labels: { type: "low-memory" } },
    { name: "app", count: 2 },
  ],
  gateway: { ...dev.gateway, placement: "app", domain: DOMAIN },
};

/** The routing change: a second route to hello, which rolls the gateway. */
const withHi = {
  ...front,
  gateway: { ...front.gateway, routes: [...front.gateway.routes, { path: "/hi", service: "hello", port: 8080 }] },
};

function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  return work().finally(() => console.log(`${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`));
}

function changes(plan: PlanLine[]): string[] {
  return plan
    .filter((l) => l.op !== "same")
    .map((l) => `${l.op} ${l.name}`)
    .sort();
}

const lbAddress = () => readHarnessInfo(HARNESS)!.loadBalancer!.publicIp;

/** The harness's certificate authority: the stand-in's certificate for the ACM one was issued by it. */
function caPem(): string {
  const certs = path.join(stateDir(HARNESS), "certs");
  const [dir] = fs.readdirSync(certs);
  return fs.readFileSync(path.join(certs, dir, "ca.pem"), "utf8");
}

/**
 * HTTPS requests to `routes` of the domain through the load balancer: every other round over the
 * routes on kept-alive connections (pinned to one gateway until it closes, as a client library's
 * pool is), the others on a connection each (balanced anew, so both gateways carry traffic whatever
 * the pins).
 */
function overTls(routes: string[], { keepAlive = true } = {}) {
  const urls = routes.map((route) => `https://${DOMAIN}${route}`);
  const options = { ca: caPem(), address: lbAddress() };
  const kept = fetchTlsRoundRobin(urls, { ...options, keepAlive: true });
  const fresh = fetchTlsRoundRobin(urls, { ...options, keepAlive: false });
  // Every route in turn (n), the connection kind alternating each round.
  return (n: number) => (keepAlive && Math.floor(n / urls.length) % 2 === 0 ? kept(n) : fresh(n));
}

/** One plain-HTTP request to the load balancer's port 80, redirects not followed. */
function plainHttp(route: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: lbAddress(), port: 80, path: route, headers: { Host: DOMAIN }, agent: false }, (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, location: response.headers.location });
      })
      .on("error", reject);
  });
}

/** The private addresses the stand-in balances over, from its running configuration. */
function standInTargets(): string[] {
  const config = fs.readFileSync(path.join(stateDir(HARNESS), "lb", "haproxy.cfg"), "utf8");
  // The checked servers; the unchecked `open-…` copies are the fail-open backups of the same targets.
  return [...config.matchAll(/^ {2}server ([\d.]+):\d+ /gm)].map((m) => m[1]).sort();
}

const privateIpOf = (run: ClusterRun, key: string) =>
  readHosts(HARNESS).hosts.find((h) => h.name === run.nodeHosts[key])!.privateIp;

function report(label: string, load: { sent: number; failed: number; errors: Record<string, number> }) {
  console.log(`${label}: ${load.sent} sent, ${load.failed} failed`, load.errors);
}

describe("front cluster: 1 manager, infra(1), app(2) running the gateway, behind the load balancer with a domain", () => {
  let current: ClusterRun;
  let manager: string;

  beforeAll(async () => {
    await timed("front: hosts up (4)", () => upHosts(4, HARNESS));
    current = await timed("front: pulumi up #1", () => upOnHarness(HARNESS, "front", front));
    manager = current.nodeHosts["manager-0"];
  });
  afterAll(async () => {
    await downHosts(HARNESS);
  });

  it("answers every route at url over HTTPS, redirects plain HTTP, and the service sees the client's address and https", async () => {
    expect(current.result.outputs.url).toBe(`https://${DOMAIN}`);
    expect(standInTargets()).toEqual([privateIpOf(current, "app-0"), privateIpOf(current, "app-1")].sort());
    const request = overTls(["/hello", "/world", "/grafana"]);
    for (const [n, service] of ["hello", "world", "grafana"].entries()) {
      const reply = await request(n);
      expect(reply.status).toBe(200);
      expect(reply.body).toContain(`service=${service} `);
      expect(reply.body).toContain(`forwarded-for=${readHosts(HARNESS).runnerIp} proto=https`);
    }
    expect(await plainHttp("/hello?x=1")).toEqual({ status: 308, location: `https://${DOMAIN}/hello?x=1` });
  });

  it("rolls the gateway on both nodes for a routing change with no failed request through the load balancer", async () => {
    const config = withHi;
    const before = await onHost(
      HARNESS,
      manager,
      "docker service ps -q aws-swarm_gateway --filter desired-state=running",
    );
    const load = await underLoad(
      overTls(["/hello", "/world"]),
      () => timed("front: routing change, gateway rolled on 2 nodes", () => upOnHarness(HARNESS, "front", config)),
      { concurrency: 4, tailMs: 2000 },
    );
    report("front: requests during the gateway roll", load);
    current = load.result;
    expect(changes(current.result.plan)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(update|replace) front-gateway-deploy$/)]),
    );
    const after = await onHost(
      HARNESS,
      manager,
      "docker service ps -q aws-swarm_gateway --filter desired-state=running",
    );
    // Both gateway tasks were replaced.
    expect(after.split("\n").filter((id) => before.split("\n").includes(id))).toEqual([]);
    expect(after.split("\n")).toHaveLength(2);
    expect((await overTls(["/hi"])(0)).body).toContain("service=hello ");
    expect(load.sent).toBeGreaterThan(500);
    expect(load.failed).toBe(0);
  });

  it("loses no request through the load balancer while hello rolls (the stack's update_config, start-first)", async () => {
    const load = await underLoad(
      overTls(["/hello"]),
      () =>
        timed("front: rolling update of hello", () =>
          onHost(
            HARNESS,
            manager,
            "docker service update --env-add ECHO_VERSION=v2 --detach=false -q app_hello >/dev/null",
          ),
        ),
      { concurrency: 4, tailMs: 2000 },
    );
    report("front: requests during hello's rolling update", load);
    expect(load.versions.v2).toBeGreaterThan(0);
    expect(load.sent).toBeGreaterThan(200);
    expect(load.failed).toBe(0);
  });

  /**
   * Open-loop load through the load balancer while `fault` happens and for `seconds` after: a new
   * connection every 50 ms whatever the earlier ones do (a request stuck on a dead gateway holds no
   * one back), each balanced anew, so a lost gateway gets its share until it is out. Returns the
   * counts and how long after the fault the last failed request was sent.
   */
  async function lossWindow(fault: () => Promise<void>, seconds: number) {
    const request = overTls(["/hello"], { keepAlive: false });
    const sent: Promise<void>[] = [];
    const failedAt: number[] = [];
    const errors: Record<string, number> = {};
    const faultAt = Date.now();
    const ticker = setInterval(() => {
      const sentAt = Date.now();
      const fail = (why: string) => {
        failedAt.push(sentAt);
        errors[why] = (errors[why] ?? 0) + 1;
      };
      sent.push(
        request(sent.length).then(
          (reply) => (reply.status === 200 ? undefined : fail(`${reply.status} ${reply.body.slice(0, 50)}`)),
          (error: Error) => fail(error.message.slice(0, 50)),
        ),
      );
    }, 50);
    try {
      await fault();
      await new Promise((r) => setTimeout(r, seconds * 1000));
    } finally {
      clearInterval(ticker);
    }
    await Promise.all(sent);
    const window = failedAt.length === 0 ? 0 : (Math.max(...failedAt) - faultAt) / 1000;
    return { load: { sent: sent.length, failed: failedAt.length, errors }, window };
  }

  /** Waits until both gateway tasks run again and the load balancer counts them healthy. */
  async function bothGatewaysBack(): Promise<void> {
    await eventually(
      120,
      () => runningTasks(HARNESS, manager, "aws-swarm_gateway"),
      (nodes) => nodes.length === 2,
    );
    // The load balancer's view isn't observable from here: wait out `healthyThreshold` checks.
    await new Promise((r) => setTimeout(r, (HEALTH_CHECK.interval * HEALTH_CHECK.healthyThreshold + 5) * 1000));
  }

  // Sent up to interval × unhealthy threshold + timeout after the loss, plus one interval of phase.
  const bound = UNHEALTHY_AFTER_SECONDS + HEALTH_CHECK.interval;

  it("fails requests for a powered-off gateway node only until the health check marks it down", async () => {
    const host = current.nodeHosts["app-1"];
    await spreadOver(HARNESS, manager, "app_hello", [host, current.nodeHosts["app-0"]]);
    const { load, window } = await lossWindow(() => powerOff(HARNESS, host), bound + 15);
    report(
      `front: requests while app-1 was powered off (last failed request sent ${window.toFixed(1)} s after, bound ${bound} s)`,
      load,
    );
    expect(load.sent).toBeGreaterThan(300);
    expect(window).toBeLessThanOrEqual(bound);
    await timed("front: app-1 started again, its gateway back in the load balancer", async () => {
      await powerOn(HARNESS, host);
      await bothGatewaysBack();
    });
  });

  it("fails requests for a gateway node cut off the network only until the health check marks it down", async () => {
    const host = current.nodeHosts["app-1"];
    await spreadOver(HARNESS, manager, "app_hello", [host, current.nodeHosts["app-0"]]);
    const { load, window } = await lossWindow(() => fault(HARNESS, host, "partition"), bound + 15);
    report(
      `front: requests while app-1 was cut off (partition; last failed request sent ${window.toFixed(1)} s after, bound ${bound} s)`,
      load,
    );
    expect(load.sent).toBeGreaterThan(300);
    expect(window).toBeLessThanOrEqual(bound);
    await timed("front: app-1 reconnected, its gateway back in the load balancer", async () => {
      await fault(HARNESS, host, "heal");
      await bothGatewaysBack();
    });
  });

  it("loses no request through the load balancer while the app pool (a gateway node) scales 2 → 1", async () => {
    const config = { ...withHi, workerPools: [front.workerPools[0], { name: "app", count: 1 }] };
    const gone = current.nodeHosts["app-1"];
    const removedIp = privateIpOf(current, "app-1");
    const load = await underLoad(
      overTls(["/hello", "/world"]),
      () => timed("front: app 2 → 1", () => upOnHarness(HARNESS, "front", config)),
      { concurrency: 4, tailMs: 2000 },
    );
    report("front: requests during the scale-down", load);
    current = load.result;
    expect(changes(current.result.plan)).toEqual(
      expect.arrayContaining(["delete front-app-1", "delete front-target-app-1"]),
    );
    expect(standInTargets()).toEqual([privateIpOf(current, "app-0")]);
    expect(standInTargets()).not.toContain(removedIp);
    expect(Object.values(current.nodeHosts)).not.toContain(gone);
    expect(load.sent).toBeGreaterThan(200);
    expect(load.failed).toBe(0);
  });
});
