/**
 * Benchmark 2: the generated HAProxy configuration on loopback, through it and straight to the
 * same backends, with wrk at the same concurrency in the same run.
 *
 * The config is renderHaproxyConfig's, unchanged but for two things done from outside: the route's
 * host is 127.0.0.1 (the `serviceHost` option) with one slot, so the server-template names one
 * static server and no DNS is involved; and `bind :<port>` becomes `bind 127.0.0.1:<port>`, so
 * nothing listens beyond loopback. HAProxy runs in the foreground (`-db`) as one process, whose
 * /proc/<pid>/stat gives the gateway's CPU time; its log lines go to /dev/null.
 */
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { renderHaproxyConfig } from "../lib/haproxy";
import { GatewayRun } from "./lib/results";
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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

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
  /** Alternating direct/gateway runs per backend and concurrency; figures are their medians. */
  rounds: number;
  log: (line: string) => void;
}

export async function benchGateway(options: GatewayBenchOptions): Promise<GatewayRun[]> {
  const { log } = options;
  const ticks = Number((await run("getconf", ["CLK_TCK"])).stdout.trim()) || 100;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-bench-gw-"));
  const processes: ChildProcess[] = [];
  const start = (command: string, args: string[], env: Record<string, string> = {}) => {
    const child = spawn(command, args, { stdio: "ignore", env: { ...process.env, ...env } });
    processes.push(child);
    return child;
  };
  try {
    const [echoPort, trivialPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
    start("python3", [path.join(ROOT, "services", "echo", "server.py")], {
      PORT: String(echoPort),
      BIND: "127.0.0.1",
      SERVICE_NAME: "echo",
    });
    fs.writeFileSync(path.join(dir, "trivial.cfg"), TRIVIAL_CONFIG(trivialPort));
    start("haproxy", ["-db", "-f", path.join(dir, "trivial.cfg")]);
    const config = renderHaproxyConfig({
      stackName: "bench",
      routes: [
        { path: "/echo", service: "echo", port: echoPort },
        { path: "/trivial", service: "trivial", port: trivialPort },
      ],
      listenPort: gatewayPort,
      statsPort: false,
      slots: 1,
      serviceHost: () => "127.0.0.1",
    }).replace(/^ {2}bind :(\d+)$/m, "  bind 127.0.0.1:$1");
    fs.writeFileSync(path.join(dir, "gateway.cfg"), config);
    await run("haproxy", ["-c", "-q", "-f", path.join(dir, "gateway.cfg")]);
    await waitFor200(`http://127.0.0.1:${echoPort}/echo/x`);
    await waitFor200(`http://127.0.0.1:${trivialPort}/trivial/x`);
    const gateway = start("haproxy", ["-db", "-f", path.join(dir, "gateway.cfg")]);
    await waitFor200(`http://127.0.0.1:${gatewayPort}/echo/x`);
    await waitFor200(`http://127.0.0.1:${gatewayPort}/trivial/x`);

    const runs: GatewayRun[] = [];
    const backends = [
      { name: "sample service (echo)", direct: `http://127.0.0.1:${echoPort}/echo/x` },
      { name: "trivial (HAProxy return)", direct: `http://127.0.0.1:${trivialPort}/trivial/x` },
    ];
    for (const backend of backends) {
      const through = backend.direct.replace(/:\d+\//, `:${gatewayPort}/`);
      for (const connections of options.connections) {
        // Direct and gateway runs alternate, round after round, so a burst of other load on the
        // machine hits both sides alike; each figure is the median over the rounds.
        const directRounds: WrkResult[] = [];
        const gatewayRounds: WrkResult[] = [];
        let gatewayCpuMs = 0;
        for (let round = 0; round < options.rounds; round++) {
          directRounds.push(await wrk(backend.direct, connections, options.durationS));
          const before = cpuMs(gateway.pid!, ticks);
          gatewayRounds.push(await wrk(through, connections, options.durationS));
          gatewayCpuMs += cpuMs(gateway.pid!, ticks) - before;
        }
        const direct = medianWrk(directRounds);
        const viaGateway = medianWrk(gatewayRounds);
        const result: GatewayRun = {
          backend: backend.name,
          connections,
          durationS: options.durationS,
          rounds: options.rounds,
          direct,
          gateway: viaGateway,
          gatewayCpuMs,
        };
        const cpuUs = (gatewayCpuMs * 1000) / Math.max(1, viaGateway.requests);
        log(
          `gateway: ${backend.name}, ${connections} connections: direct ${direct.requestsPerSec.toFixed(0)} req/s ` +
            `p50 ${direct.p50Ms.toFixed(2)} ms p99 ${direct.p99Ms.toFixed(2)} ms; through the gateway ` +
            `${viaGateway.requestsPerSec.toFixed(0)} req/s p50 ${viaGateway.p50Ms.toFixed(2)} ms p99 ${viaGateway.p99Ms.toFixed(2)} ms ` +
            `(${(viaGateway.requestsPerSec / direct.requestsPerSec).toFixed(2)}×); gateway CPU ${cpuUs.toFixed(1)} µs/request; ` +
            `errors ${direct.errors}/${viaGateway.errors}`,
        );
        runs.push(result);
      }
    }
    return runs;
  } finally {
    for (const child of processes) {
      if (child.exitCode === null) child.kill("SIGTERM");
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
