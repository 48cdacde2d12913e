/**
 * Benchmark 2: the generated HAProxy configuration on loopback, through it and straight to the
 * same backends, with wrk at the same concurrency in the same run; the same gateway with every
 * request logged; and the load balancer stand-in in front of the gateway.
 *
 * The gateway's config is renderHaproxyConfig's as the program deploys it by default (behind the
 * load balancer: PROXY v2 from anything but loopback, `grace`; access log `errors`), unchanged but
 * for two things done from outside: each route's host is 127.0.0.1 (the `serviceHost` option) with
 * one slot, so the server-template names one static server and no DNS is involved; and `bind
 * :<port>` becomes `bind 127.0.0.1:<port>`, so nothing listens beyond loopback. wrk reaches it
 * from 127.0.0.1, without PROXY header, as the container's own healthcheck does; the stand-in
 * (test/program/loadBalancerStandIn.ts) connects from 127.0.0.2 with one, as the NLB does. Every
 * HAProxy runs in the foreground (`-db`) as one process, whose /proc/<pid>/stat gives its CPU time;
 * log lines go to /dev/null.
 */
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { renderHaproxyConfig } from "../lib/haproxy";
import { GATEWAY_GRACE_SECONDS } from "../lib/loadBalancer";
import { GatewayAccessLog } from "../lib/types";
import { renderStandIn } from "../test/program/loadBalancerStandIn";
import { freePort } from "../test/support/ports";
import { limitCpu } from "./cpuLimit";
import { GatewayRun, summariseGateway } from "./lib/results";
import { cpuMsFromProcStat, medianWrk, parseWrkOutput, WrkResult } from "./lib/stats";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "..");

const TRIVIAL_CONFIG = (port: number) => `global
  maxconn 4096

defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s

frontend trivial
  bind 127.0.0.1:${port}
  http-request return status 200 content-type text/plain string "ok\\n"
`;

function status(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", () => resolve(0));
    req.setTimeout(1000, () => req.destroy());
  });
}

async function waitFor200(url: string, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await status(url)) === 200) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} never answered 200`);
}

function cpuMs(pid: number, ticks: number): number {
  return cpuMsFromProcStat(fs.readFileSync(`/proc/${pid}/stat`, "utf8"), ticks);
}

async function wrk(url: string, connections: number, durationS: number): Promise<WrkResult> {
  const threads = Math.min(2, connections);
  const { stdout } = await run("wrk", [`-t${threads}`, `-c${connections}`, `-d${durationS}s`, "--latency", url]);
  return parseWrkOutput(stdout);
}

export interface GatewayBenchOptions {
  connections: number[];
  durationS: number;
  /** Alternating runs per backend and concurrency; figures are their medians. */
  rounds: number;
  log: (line: string) => void;
}

/** What stacks/app.yml gives each sample task (`resources.limits.cpus`). */
const SAMPLE_TASK_CPUS = 0.5;

interface Backend {
  name: string;
  /** The route's path: the gateway's URL is the direct one with the gateway's port. */
  route: string;
  port: number;
}

/** Loopback only: `bind :<port>` → `bind 127.0.0.1:<port>`. */
const onLoopback = (config: string) => config.replace(/^ {2}bind :(\d+)$/m, "  bind 127.0.0.1:$1");

function gatewayConfig(backends: Backend[], listenPort: number, accessLog: GatewayAccessLog): string {
  return onLoopback(
    renderHaproxyConfig({
      stackName: "bench",
      routes: backends.map((b) => ({ path: b.route, service: b.route.slice(1), port: b.port })),
      listenPort,
      statsPort: false,
      slots: 1,
      serviceHost: () => "127.0.0.1",
      accessLog,
      loadBalancer: { graceSeconds: GATEWAY_GRACE_SECONDS, redirectToHttps: false },
    }),
  );
}

/** The stand-in as the program registers the gateway's target group: TCP listener, PROXY v2, HTTP health check. */
function standInConfig(listenPort: number, gatewayPort: number): string {
  const config = renderStandIn({
    listeners: [{ port: listenPort, protocol: "TCP", targetGroup: "gateway" }],
    targetGroups: [
      {
        name: "gateway",
        port: gatewayPort,
        healthCheck: {
          protocol: "HTTP",
          path: "/healthz",
          port: "traffic-port",
          intervalSeconds: 10,
          timeoutSeconds: 5,
          healthyThreshold: 2,
          unhealthyThreshold: 2,
          matcher: "200-399",
        },
        deregistrationDelaySeconds: 30,
        proxyProtocolV2: true,
        preserveClientIp: false,
        terminateOnUnhealthy: true,
        targets: [{ ip: "127.0.0.1" }],
      },
    ],
  });
  // Not from 127.0.0.1, which the gateway exempts from PROXY v2 (its own healthcheck's address).
  return onLoopback(config).replace(/^ {2}default-server /m, "  default-server source 127.0.0.2 ");
}

export async function benchGateway(options: GatewayBenchOptions): Promise<GatewayRun[]> {
  const { log } = options;
  const ticks = Number((await run("getconf", ["CLK_TCK"])).stdout.trim()) || 100;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-bench-gw-"));
  const processes: ChildProcess[] = [];
  const cleanups: (() => void)[] = [];
  const start = (command: string, args: string[], env: Record<string, string> = {}) => {
    const child = spawn(command, args, { stdio: "ignore", env: { ...process.env, ...env } });
    processes.push(child);
    return child;
  };
  const haproxy = async (name: string, config: string) => {
    fs.writeFileSync(path.join(dir, `${name}.cfg`), config);
    await run("haproxy", ["-c", "-q", "-f", path.join(dir, `${name}.cfg`)]);
    return start("haproxy", ["-db", "-f", path.join(dir, `${name}.cfg`)]);
  };
  const echo = (port: number) =>
    start("python3", [path.join(ROOT, "services", "echo", "server.py")], {
      PORT: String(port),
      BIND: "127.0.0.1",
      SERVICE_NAME: "echo",
    });
  try {
    const backends: Backend[] = [{ name: "sample service (echo)", route: "/echo", port: await freePort() }];
    echo(backends[0].port);
    const limited = {
      name: `sample service, ${SAMPLE_TASK_CPUS} CPU as its task`,
      route: "/echo-limited",
      port: await freePort(),
    };
    try {
      cleanups.push(limitCpu(echo(limited.port).pid!, SAMPLE_TASK_CPUS, `aws-swarm-bench-echo-${process.pid}`));
      backends.push(limited);
    } catch (err) {
      log(
        `gateway: the ${SAMPLE_TASK_CPUS}-CPU sample service is left out: ${err instanceof Error ? err.message : err}`,
      );
    }
    const trivial = { name: "trivial (HAProxy return)", route: "/trivial", port: await freePort() };
    await haproxy("trivial", TRIVIAL_CONFIG(trivial.port));
    backends.push(trivial);
    const [gatewayPort, allLogsPort, lbPort] = [await freePort(), await freePort(), await freePort()];
    const gateway = await haproxy("gateway", gatewayConfig(backends, gatewayPort, "errors"));
    const allLogs = await haproxy("gateway-all", gatewayConfig(backends, allLogsPort, "all"));
    await haproxy("standin", standInConfig(lbPort, gatewayPort));
    const url = (port: number, backend: Backend) => `http://127.0.0.1:${port}${backend.route}/x`;
    for (const backend of backends) {
      for (const port of [backend.port, gatewayPort, allLogsPort, lbPort]) await waitFor200(url(port, backend));
    }

    const runs: GatewayRun[] = [];
    for (const backend of backends) {
      for (const connections of options.connections) {
        const measure = async (port: number, pid?: number) => {
          const before = pid === undefined ? 0 : cpuMs(pid, ticks);
          const result = await wrk(url(port, backend), connections, options.durationS);
          return { result, cpuMs: pid === undefined ? 0 : cpuMs(pid, ticks) - before };
        };
        // The four paths alternate, round after round, so a burst of other load on the machine
        // hits them alike; each figure is the median over the rounds.
        const rounds = {
          direct: [] as WrkResult[],
          gateway: [] as WrkResult[],
          all: [] as WrkResult[],
          lb: [] as WrkResult[],
        };
        let gatewayCpuMs = 0;
        let allLogsCpuMs = 0;
        for (let round = 0; round < options.rounds; round++) {
          rounds.direct.push((await measure(backend.port)).result);
          const viaGateway = await measure(gatewayPort, gateway.pid!);
          rounds.gateway.push(viaGateway.result);
          gatewayCpuMs += viaGateway.cpuMs;
          const viaAllLogs = await measure(allLogsPort, allLogs.pid!);
          rounds.all.push(viaAllLogs.result);
          allLogsCpuMs += viaAllLogs.cpuMs;
          rounds.lb.push((await measure(lbPort)).result);
        }
        const result: GatewayRun = {
          backend: backend.name,
          connections,
          durationS: options.durationS,
          rounds: options.rounds,
          direct: medianWrk(rounds.direct),
          gateway: medianWrk(rounds.gateway),
          gatewayCpuMs,
          gatewayAllLogs: medianWrk(rounds.all),
          gatewayAllLogsCpuMs: allLogsCpuMs,
          viaLoadBalancer: medianWrk(rounds.lb),
        };
        logRun(result, log);
        runs.push(result);
      }
    }
    return runs;
  } finally {
    for (const child of processes) {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    await new Promise((r) => setTimeout(r, 200));
    for (const cleanup of cleanups) cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function logRun(run: GatewayRun, log: (line: string) => void): void {
  const s = summariseGateway(run);
  const figures = (w: WrkResult) =>
    `${w.requestsPerSec.toFixed(0)} req/s p50 ${w.p50Ms.toFixed(2)} ms p99 ${w.p99Ms.toFixed(2)} ms`;
  log(
    `gateway: ${run.backend}, ${run.connections} connections: direct ${figures(run.direct)}; ` +
      `through the gateway ${figures(run.gateway)} (${s.rpsRatio?.toFixed(2)}×), CPU ${s.cpuUsPerRequest?.toFixed(1)} µs/request ` +
      `(${s.cpuUsPerRequestAllLogs?.toFixed(1)} with every request logged); through the load balancer stand-in ` +
      `${figures(run.viaLoadBalancer!)} (${s.loadBalancerRatio?.toFixed(2)}×); errors ${run.direct.errors}/${run.gateway.errors}/` +
      `${run.gatewayAllLogs!.errors}/${run.viaLoadBalancer!.errors}`,
  );
}
