import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  DEFAULT_SLOTS,
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

  test("without stats, with custom slots and port, still valid", () => {
    const config = renderHaproxyConfig({ routes: MANY, stackName: "shop", slots: 3, listenPort: 9090, statsPort: false });
    expect(config).not.toMatch(/frontend stats/);
    expect(config).toMatch(/^ {2}bind :9090$/m);
    expect(config).toMatch(/server-template hello_ 3 tasks\.shop_hello:8080 check/);
    expect(haproxyCheck(config)).toMatch(/valid/);
  });

  test("resolves through Swarm DNS with the guardrails of gateway.md §3.1", () => {
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
    expect(config).toMatch(/return status 503 .*service hello for route %\[var\(txn\.route\)\]\\n" if \{ nbsrv eq 0 \}/);
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
    expect(() => renderHaproxyConfig({ routes: ONE, stackName: "app", slots: 0 })).toThrow(/slots/);
  });

  test("helpers", () => {
    expect(normalizePrefix("/")).toBe("/");
    expect(normalizePrefix("/api/")).toBe("/api");
    expect(backendName({ path: "/", service: "my-svc", port: 80 })).toBe("be_my_svc_80");
    expect(orderRoutes(NESTED).map((r) => r.path)).toEqual(["/api/v2/admin", "/api/v2", "/api", "/a"]);
  });
});
