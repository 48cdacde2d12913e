import { ChildProcess, execFileSync, spawn } from "child_process";
import * as dgram from "dgram";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { underLoad } from "./support/load";
import { until } from "./support/until";
import { DEFAULT_SLOTS } from "../lib/defaults";
import {
  HaproxyRoute,
  backendName,
  normalizePrefix,
  orderRoutes,
  renderHaproxyConfig,
  validateRoutes,
} from "../lib/haproxy";

const ONE: HaproxyRoute[] = [{ path: "/hello", service: "hello", port: 8080 }];
const MANY: HaproxyRoute[] = [
  { path: "/hello", service: "hello", port: 8080 },
  { path: "/world", service: "world", port: 8080 },
  { path: "/grafana", service: "grafana", port: 3000, healthPath: "/api/health" },
  { path: "/orders", service: "orders", port: 8081 },
  { path: "/users/", service: "users", port: 8082 },
  { path: "/", service: "web", port: 80 },
];
const NESTED: HaproxyRoute[] = [
  { path: "/api", service: "api", port: 8080 },
  { path: "/api/v2", service: "api-v2", port: 8080 },
  { path: "/api/v2/admin", service: "admin", port: 9000 },
  { path: "/a", service: "api", port: 8080 },
];

/** Runs Debian's haproxy on a rendered config; a missing binary fails the test. */
function haproxyCheck(config: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "haproxy-test-"));
  const file = path.join(dir, "haproxy.cfg");
  fs.writeFileSync(file, config);
  try {
    // -dW: zero-warning mode, so a deprecation or ignored keyword fails too.
    return execFileSync("haproxy", ["-dW", "-c", "-f", file], { encoding: "utf8", stdio: "pipe" });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("renderHaproxyConfig", () => {
  test("haproxy is installed (the config checks below need it)", () => {
    // GIVEN / WHEN
    const version = execFileSync("haproxy", ["-v"], { encoding: "utf8" });
    // THEN
    expect(version).toMatch(/HAProxy version \d+\.\d+/);
  });

  test.each([
    ["one route", ONE],
    ["many routes", MANY],
    ["nested prefixes", NESTED],
    ["no routes", []],
  ])("%s: snapshot and `haproxy -c`", (_label, routes) => {
    // WHEN
    const config = renderHaproxyConfig({ routes, stackName: "app" });
    // THEN
    expect(config).toMatchSnapshot();
    expect(haproxyCheck(config)).toMatch(/Configuration file is valid/);
  });

  test.each([
    ["with a domain", true],
    ["without a domain", false],
  ])(
    "behind the load balancer %s: grace, PROXY v2 but from loopback, /healthz 503 while stopping, scheme header; valid",
    (_label, redirectToHttps) => {
      const config = renderHaproxyConfig({
        routes: MANY,
        stackName: "app",
        loadBalancer: { graceSeconds: 30, redirectToHttps },
      });
      const lines = config.split("\n").map((line) => line.trim());
      expect(lines).toEqual(
        expect.arrayContaining([
          "grace 30s",
          "tcp-request connection expect-proxy layer4 if !{ src 127.0.0.1 }",
          'http-request return status 503 content-type text/plain string "stopping\\n" if { path /healthz } { stopping }',
          "http-request set-header X-Forwarded-Proto https if { dst_port 443 }",
          "http-request set-header X-Forwarded-Proto http if !{ dst_port 443 }",
          "http-after-response set-header Connection close if { stopping }",
        ]),
      );
      // The stopping answer comes before the healthy one, the redirect after both.
      const at = (prefix: string) => lines.findIndex((line) => line.startsWith(prefix));
      expect(at("http-request return status 503")).toBeLessThan(at("http-request return status 200"));
      const redirect = "http-request redirect scheme https code 308 if !{ dst_port 443 }";
      expect(lines.includes(redirect)).toBe(redirectToHttps);
      expect(lines.slice(at("http-request return status 200")).includes(redirect)).toBe(redirectToHttps);
      expect(haproxyCheck(config)).toMatch(/Configuration file is valid/);
    },
  );

  test("without the load balancer: no grace, no PROXY header expected, no scheme rewriting", () => {
    const config = renderHaproxyConfig({ routes: MANY, stackName: "app" });
    expect(config).not.toMatch(/grace|expect-proxy|stopping|X-Forwarded-Proto|redirect/);
  });

  test("without stats, with custom slots and port, still valid", () => {
    const config = renderHaproxyConfig({
      routes: MANY,
      stackName: "shop",
      slots: 3,
      listenPort: 9090,
      statsPort: false,
    });
    expect(config).not.toMatch(/frontend stats/);
    expect(config).toMatch(/^ {2}bind :9090$/m);
    expect(config).toMatch(/server-template hello_ 3 tasks\.shop_hello:8080 check/);
    expect(haproxyCheck(config)).toMatch(/valid/);
  });

  test("resolves through Swarm DNS with the settings docs/stack-and-gateway.md explains (resolvers, init-addr none, server-template)", () => {
    const config = renderHaproxyConfig({ routes: ONE, stackName: "app" });
    expect(config).toMatch(/nameserver docker 127\.0\.0\.11:53/);
    expect(config).toMatch(/accepted_payload_size 8192/);
    expect(config).toMatch(/timeout resolve 1s/);
    expect(config).toMatch(/default-server init-addr none resolvers swarm/);
    expect(config).not.toMatch(/libc/);
    expect(config).toMatch(`server-template hello_ ${DEFAULT_SLOTS} tasks.app_hello:8080 check`);
    expect(config).toMatch(/retry-on conn-failure empty-response/);
    expect(config).toMatch(/option redispatch/);
    expect(config).toMatch(/http-reuse safe/);
    expect(config).toMatch(/inter 2s .*fall 2 rise 2 slowstart/);
    // Never a daemon: the container runs HAProxy in the foreground under -W.
    expect(config).not.toMatch(/^\s*(daemon|user|chroot|nbproc)\b/m);
  });

  test("nested prefixes: the longest one is matched first, on path-segment boundaries", () => {
    const config = renderHaproxyConfig({ routes: NESTED, stackName: "app" });
    const uses = config.split("\n").filter((line) => line.includes("use_backend"));
    expect(uses).toEqual([
      "  use_backend be_admin_9000 if route_0",
      "  use_backend be_api_v2_8080 if route_1",
      "  use_backend be_api_8080 if route_2",
      "  use_backend be_api_8080 if route_3",
    ]);
    // "/api" must not capture "/apiary": exact path or the prefix followed by a slash.
    expect(config).toMatch(/acl route_2 path \/api\n {2}acl route_2 path_beg \/api\/\n/);
    // Two routes to one service share one backend (one set of health checks).
    expect(config.match(/^backend be_api_8080$/gm)).toHaveLength(1);
  });

  test("unknown paths get a 404, a route without healthy tasks a 503 naming it", () => {
    const config = renderHaproxyConfig({ routes: ONE, stackName: "app" });
    expect(config).toMatch(/default_backend be_not_found/);
    expect(config).toMatch(/return status 404/);
    expect(config).toMatch(
      /return status 503 .*service hello for route %\[var\(txn\.route\)\]\\n" if \{ nbsrv eq 0 \}/,
    );
    expect(config).toMatch(/timeout connect 2s/);
    expect(config).toMatch(/timeout queue 5s/);
  });

  test("a catch-all route replaces the 404 and is the fallback route name", () => {
    const config = renderHaproxyConfig({ routes: MANY, stackName: "app" });
    expect(config).toMatch(/default_backend be_web_80/);
    const sets = config.split("\n").filter((line) => line.includes("set-var(txn.route)"));
    expect(sets[0]).toBe("  http-request set-var(txn.route) str(/)");
  });

  test("the gateway answers its own /healthz before routing", () => {
    const config = renderHaproxyConfig({ routes: MANY, stackName: "app" });
    const health = config.indexOf("if { path /healthz }");
    expect(health).toBeGreaterThan(0);
    expect(health).toBeLessThan(config.indexOf("use_backend"));
  });

  test("per-route health path, and any answer below 500 counts as alive", () => {
    const config = renderHaproxyConfig({ routes: MANY, stackName: "app" });
    expect(config).toMatch(/backend be_grafana_3000\n(.*\n)*? {2}http-check send meth GET uri \/api\/health/);
    expect(config).toMatch(/http-check expect ! rstatus \^5/);
  });

  test("rejects inconsistent routes", () => {
    expect(() =>
      renderHaproxyConfig({
        stackName: "app",
        routes: [
          { path: "/a/", service: "a", port: 1 },
          { path: "/a", service: "b", port: 1 },
        ],
      }),
    ).toThrow(/prefix \/a is already routed to a/);
    expect(validateRoutes([{ path: '/x"y', service: "a", port: 1 }])).toHaveLength(1);
    expect(validateRoutes([{ path: "/x'y", service: "a", port: 1 }])).toHaveLength(1);
    // The gateway answers its health path itself (lib/routes.ts, shared with config validation).
    expect(validateRoutes([{ path: "/healthz/", service: "a", port: 1 }])).toEqual([
      expect.stringMatching(/^route \/healthz\/: is the gateway's own health path/),
    ]);
    expect(validateRoutes([{ path: "/healthz/x", service: "a", port: 1 }])).toEqual([]);
    expect(() => renderHaproxyConfig({ routes: ONE, stackName: "app", slots: 0 })).toThrow(/slots/);
  });

  test("helpers", () => {
    expect(normalizePrefix("/")).toBe("/");
    expect(normalizePrefix("/api/")).toBe("/api");
    expect(backendName({ path: "/", service: "my-svc", port: 80 })).toBe("be_my_svc_80");
    expect(orderRoutes(NESTED).map((r) => r.path)).toEqual(["/api/v2/admin", "/api/v2", "/api", "/a"]);
  });
});

// The generated config in action, on loopback only: Debian's haproxy, a stand-in for Swarm's DNS
// (A records from a table, NXDOMAIN otherwise) and the sample service from services/echo on
// 127.0.0.x addresses, replaced the way Swarm replaces tasks in a rolling update.
describe("behaviour (loopback: haproxy + stand-in DNS + services/echo)", () => {
  const records: Record<string, string[]> = {};
  const tasks = new Map<string, ChildProcess>();
  const base = 20000 + (process.pid % 5000) * 2;
  const backendPort = base;
  const gatewayPort = base + 1;
  let dns: dgram.Socket;
  let haproxy: ChildProcess;
  let dir: string;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  function get(urlPath: string): Promise<{ status: number; body: string; ms: number }> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const req = http.get({ host: "127.0.0.1", port: gatewayPort, path: urlPath, agent, timeout: 5000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, ms: Date.now() - started }));
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
    });
  }

  /** Starts one task of a service on 127.0.0.<n> and waits until it answers its health check. */
  async function startTask(service: string, n: number): Promise<void> {
    const address = `127.0.0.${n}`;
    const child = spawn("python3", [path.join(__dirname, "..", "services", "echo", "server.py")], {
      env: {
        PATH: process.env.PATH,
        PORT: String(backendPort),
        BIND: address,
        SERVICE_NAME: service,
        TASK_NAME: `${service}.${n}`,
        ECHO_VERSION: "t",
      },
      stdio: ["ignore", "ignore", "ignore"],
    });
    tasks.set(address, child);
    await until(
      `${service} on ${address}`,
      () =>
        new Promise<true | undefined>((resolve) => {
          const socket = net.connect(backendPort, address, () => {
            socket.destroy();
            resolve(true);
          });
          socket.on("error", () => resolve(undefined));
        }),
    );
  }

  function stopTask(n: number, signal: NodeJS.Signals): Promise<void> {
    const child = tasks.get(`127.0.0.${n}`)!;
    tasks.delete(`127.0.0.${n}`);
    return new Promise((resolve) => {
      child.on("exit", () => resolve());
      child.kill(signal);
    });
  }

  /** Swarm's order: the new task is in DNS once healthy; the old one leaves DNS 2 s before SIGTERM. */
  async function replaceTask(service: string, oldN: number, newN: number): Promise<void> {
    await startTask(service, newN);
    const name = `tasks.test_${service}`;
    records[name] = [...records[name].filter((a) => a !== `127.0.0.${oldN}`), `127.0.0.${newN}`];
    await new Promise((r) => setTimeout(r, 2000));
    await stopTask(oldN, "SIGTERM");
  }

  beforeAll(async () => {
    dns = dgram.createSocket("udp4");
    dns.on("message", (query, peer) => {
      let offset = 12;
      const labels: string[] = [];
      while (query[offset] !== 0) {
        labels.push(query.subarray(offset + 1, offset + 1 + query[offset]).toString());
        offset += query[offset] + 1;
      }
      const type = query.readUInt16BE(offset + 1);
      const question = query.subarray(12, offset + 5);
      const addresses = records[labels.join(".")];
      const answers = type === 1 && addresses ? addresses : [];
      const header = Buffer.alloc(12);
      header.writeUInt16BE(query.readUInt16BE(0), 0);
      header.writeUInt16BE(addresses === undefined ? 0x8183 : 0x8180, 2); // NXDOMAIN or NOERROR
      header.writeUInt16BE(1, 4);
      header.writeUInt16BE(answers.length, 6);
      const rrs = answers.map((a) => {
        const rr = Buffer.alloc(16);
        rr.writeUInt16BE(0xc00c, 0);
        rr.writeUInt16BE(1, 2);
        rr.writeUInt16BE(1, 4);
        rr.writeUInt32BE(0, 6);
        rr.writeUInt16BE(4, 10);
        a.split(".").forEach((octet, i) => rr.writeUInt8(Number(octet), 12 + i));
        return rr;
      });
      dns.send(Buffer.concat([header, question, ...rrs]), peer.port, peer.address);
    });
    await new Promise<void>((resolve) => dns.bind(0, "127.0.0.1", resolve));

    records["tasks.test_hello"] = ["127.0.0.2", "127.0.0.3"];
    records["tasks.test_api"] = ["127.0.0.4"];
    records["tasks.test_api-v2"] = ["127.0.0.7"];
    // tasks.test_down has no record: NXDOMAIN, as for a service scaled to 0.
    await Promise.all([startTask("hello", 2), startTask("hello", 3), startTask("api", 4), startTask("api-v2", 7)]);

    dir = fs.mkdtempSync(path.join(os.tmpdir(), "haproxy-behaviour-"));
    const config = renderHaproxyConfig({
      stackName: "test",
      routes: [
        { path: "/hello", service: "hello", port: backendPort },
        { path: "/api", service: "api", port: backendPort },
        { path: "/api/v2", service: "api-v2", port: backendPort },
        { path: "/down", service: "down", port: backendPort },
      ],
      listenPort: gatewayPort,
      statsPort: false,
      nameserver: `127.0.0.1:${dns.address().port}`,
    }).replace(/^ {2}bind :(\d+)$/m, "  bind 127.0.0.1:$1");
    fs.writeFileSync(path.join(dir, "haproxy.cfg"), config);
    haproxy = spawn("haproxy", ["-W", "-db", "-f", path.join(dir, "haproxy.cfg")], { stdio: "ignore" });
    await until("every route up", async () => {
      const replies = await Promise.all(["/hello", "/api", "/api/v2"].map((p) => get(p)));
      return replies.every((r) => r.status === 200) ? true : undefined;
    });
  }, 60000);

  afterAll(async () => {
    agent.destroy();
    haproxy?.kill("SIGTERM");
    await Promise.all([...tasks.keys()].map((address) => stopTask(Number(address.split(".")[3]), "SIGKILL")));
    dns?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("routes by longest prefix on segment boundaries, over every task", async () => {
    expect((await get("/api/x")).body).toMatch(/^service=api task=api\.4 /);
    expect((await get("/api/v2/x")).body).toMatch(/^service=api-v2 /);
    expect((await get("/api/v2")).body).toMatch(/^service=api-v2 /);
    expect((await get("/api/v20")).body).toMatch(/^service=api /);
    expect(await get("/apiary")).toMatchObject({ status: 404, body: "404 no route for /apiary\n" });
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add(/task=(\S+)/.exec((await get("/hello")).body)![1]);
    expect([...seen].sort()).toEqual(["hello.2", "hello.3"]);
  });

  test("a route without tasks answers 503 at once, naming it", async () => {
    const reply = await get("/down/x");
    expect(reply).toMatchObject({ status: 503, body: "503 no healthy task of service down for route /down\n" });
    expect(reply.ms).toBeLessThan(500);
  });

  test("replacing every task the way a rolling update does loses no request", async () => {
    const report = await underLoad(
      () => get("/hello"),
      async () => {
        await replaceTask("hello", 2, 5);
        await replaceTask("hello", 3, 6);
      },
      { tailMs: 1000, maxMs: 60000 },
    );
    console.log(`loopback rolling replacement: ${report.sent} sent, ${report.failed} failed`);
    expect(report.errors).toEqual({});
    expect(report.sent).toBeGreaterThan(100);
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add(/task=(\S+)/.exec((await get("/hello")).body)![1]);
    expect([...seen].sort()).toEqual(["hello.5", "hello.6"]);
  }, 60000);

  test("a task that dies without warning (still in DNS) costs no request: retried elsewhere", async () => {
    const report = await underLoad(
      () => get("/hello"),
      async () => {
        await new Promise((r) => setTimeout(r, 500));
        await stopTask(5, "SIGKILL");
        await new Promise((r) => setTimeout(r, 3000));
      },
      { tailMs: 1000, maxMs: 60000 },
    );
    console.log(`loopback task killed: ${report.sent} sent, ${report.failed} failed`);
    expect(report.errors).toEqual({});
  }, 60000);
});
