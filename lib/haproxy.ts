/**
 * The gateway's HAProxy configuration, rendered from `gateway.routes`. HAProxy finds the tasks of
 * each routed service through Swarm's embedded DNS (`tasks.<stack>_<service>`), re-resolving every
 * second, so scaling and rolling updates need no gateway reload. Why HAProxy, and why each setting
 * is what it is: docs/stack-and-gateway.md, "Why HAProxy on Swarm DNS".
 *
 * The output must stay valid for HAProxy 2.6 (Debian bookworm: `haproxy -c` in the unit tests),
 * 3.0 (Debian trixie: the gateway in the cluster tests) and 3.2 (the `haproxy` 3.2 image used on
 * AWS): only directives present in all are used, and the process model comes from the command
 * line (`haproxy -W -db`), not from `master-worker`/`daemon` here.
 */
import {
  DEFAULT_GATEWAY_ACCESS_LOG,
  DEFAULT_SERVICE_HEALTH_PATH,
  DEFAULT_SLOTS,
  GATEWAY_HEALTH_PATH,
} from "./defaults";
import { HTTPS_PORT } from "./loadBalancer";
import { normalizePrefix, ownPathProblem, prefixClashes, routePathProblem } from "./routes";
import { GatewayAccessLog, GatewayRoute } from "./types";

export { normalizePrefix };

/** Port the gateway listens on inside its container; > 1024 because the `haproxy` image does not run as root. */
export const GATEWAY_CONTAINER_PORT = 8080;
/** Stats page and Prometheus metrics inside the container; never published. */
export const GATEWAY_STATS_PORT = 8404;
/** Swarm's embedded DNS, reachable from every container on a user-defined network. */
const SWARM_DNS = "127.0.0.11:53";

export interface HaproxyRoute extends GatewayRoute {
  /**
   * Path probed on each task. Any answer below 500 counts as alive (a 404 still proves the
   * process serves HTTP), so services without a health endpoint work too.
   * @default DEFAULT_SERVICE_HEALTH_PATH
   */
  healthPath?: string;
}

export interface HaproxyOptions {
  routes: readonly HaproxyRoute[];
  /**
   * The stack of routes that name none (`route.stack`); a route with neither resolves
   * `tasks.<service>`, a service created outside any stack.
   */
  stackName?: string;
  /** @default DEFAULT_SLOTS */
  slots?: number;
  /** @default GATEWAY_CONTAINER_PORT */
  listenPort?: number;
  /** Stats/metrics listener; `false` leaves it out. @default GATEWAY_STATS_PORT */
  statsPort?: number | false;
  /**
   * DNS name HAProxy resolves for a route's service. Override for plain `docker compose`, which
   * has no `tasks.` names. @default `tasks.<stack>_<service>`
   */
  serviceHost?: (route: HaproxyRoute, stackName: string | undefined) => string;
  /** DNS server HAProxy asks (`host:port`). @default SWARM_DNS */
  nameserver?: string;
  /** Behind the Network Load Balancer (lib/loadBalancer.ts); absent, clients connect directly. */
  loadBalancer?: BehindLoadBalancer;
  /** Which requests are logged. @default DEFAULT_GATEWAY_ACCESS_LOG */
  accessLog?: GatewayAccessLog;
}

export interface BehindLoadBalancer {
  /** Seconds a stopping gateway keeps serving while `/healthz` fails (global `grace`). */
  graceSeconds: number;
  /** Answer plain HTTP (not the TLS listener's port 443) with a 308 to HTTPS: a domain is served. */
  redirectToHttps: boolean;
}

/** Backend name for a service and port: one backend (one set of checks) per target. */
export function backendName(route: GatewayRoute): string {
  return `be_${serverPrefix(route)}${route.port}`;
}

/** The Swarm service a route goes to: `<stack>_<service>`, or `<service>` outside any stack. */
function swarmServiceName(route: GatewayRoute, stackName?: string): string {
  const stack = route.stack ?? stackName;
  return stack === undefined ? route.service : `${stack}_${route.service}`;
}

/** `hello_`, or `app_hello_` for a route that names its stack (two stacks may share a service name). */
function serverPrefix(route: GatewayRoute): string {
  const name = route.stack === undefined ? route.service : `${route.stack}_${route.service}`;
  return `${name.replace(/[^A-Za-z0-9]/g, "_")}_`;
}

/** Routes in matching order: longest prefix first, so /api/v2 wins over /api and / last. */
export function orderRoutes<T extends GatewayRoute>(routes: readonly T[]): T[] {
  return [...routes].sort((a, b) => {
    const pa = normalizePrefix(a.path);
    const pb = normalizePrefix(b.path);
    return pb.length - pa.length || (pa < pb ? -1 : pa > pb ? 1 : 0);
  });
}

/** Problems that would make the generated config wrong; empty when the routes are usable. */
export function validateRoutes(routes: readonly HaproxyRoute[]): string[] {
  const problems: string[] = [];
  const healthOf = new Map<string, string>();
  const clashes = prefixClashes(routes.map((r) => r.path));
  routes.forEach((route, i) => {
    if (routePathProblem(route.path) !== undefined) {
      problems.push(`route ${JSON.stringify(route.path)}: not a plain URL path prefix`);
    }
    const own = ownPathProblem(route.path);
    if (own !== undefined) {
      problems.push(`route ${route.path}: ${own}`);
    }
    const earlier = clashes.get(i);
    if (earlier !== undefined) {
      problems.push(
        `route ${route.path}: prefix ${normalizePrefix(route.path)} is already routed to ${routes[earlier].service}`,
      );
    }
    const health = route.healthPath ?? DEFAULT_SERVICE_HEALTH_PATH;
    const backend = backendName(route);
    if (healthOf.has(backend) && healthOf.get(backend) !== health) {
      problems.push(
        `service ${route.service}:${route.port} has two health paths (${healthOf.get(backend)}, ${health})`,
      );
    }
    healthOf.set(backend, health);
  });
  return problems;
}

/** Renders a complete haproxy.cfg. Throws when the routes are inconsistent. */
export function renderHaproxyConfig(options: HaproxyOptions): string {
  const problems = validateRoutes(options.routes);
  if (problems.length > 0) {
    throw new Error(`gateway routes are invalid:\n  ${problems.join("\n  ")}`);
  }
  const slots = options.slots ?? DEFAULT_SLOTS;
  if (!Number.isInteger(slots) || slots < 1 || slots > 1000) {
    throw new Error(`gateway server slots must be an integer from 1 to 1000, got ${slots}`);
  }
  const listenPort = options.listenPort ?? GATEWAY_CONTAINER_PORT;
  const statsPort = options.statsPort === undefined ? GATEWAY_STATS_PORT : options.statsPort;
  const hostOf = options.serviceHost ?? ((route, stack) => `tasks.${swarmServiceName(route, stack)}`);
  const ordered = orderRoutes(options.routes);

  const sections = [
    renderGlobal(options.loadBalancer),
    renderResolvers(options.nameserver ?? SWARM_DNS),
    renderDefaults(options.accessLog ?? DEFAULT_GATEWAY_ACCESS_LOG),
    renderFrontend(ordered, listenPort, options.loadBalancer),
    ...renderBackends(ordered, options.stackName, slots, hostOf),
    renderNotFound(),
  ];
  if (statsPort !== false) {
    sections.push(renderStats(statsPort));
  }
  return `# Generated by aws-swarm (lib/haproxy.ts) from gateway.routes; do not edit.\n\n${sections.join("\n")}`;
}

function block(header: string, lines: string[]): string {
  return `${header}\n${lines.map((line) => (line === "" ? "" : `  ${line}`)).join("\n")}\n`;
}

function renderGlobal(lb: BehindLoadBalancer | undefined): string {
  return block("global", [
    // Foreground, no daemon/user/chroot: the container entrypoint runs `haproxy -W -db` (master
    // worker) as the image's user, and a reload (SIGUSR2) keeps the listening sockets.
    "log stdout format raw local0 info",
    "maxconn 4096",
    // A reload or stop-first update must not wait forever for idle keep-alive clients.
    "hard-stop-after 30s",
    // On SIGUSR1 `stopping` turns true at once while the listener keeps accepting this long
    // (HAProxy's global grace, "postpone soft-stop ... while indicating an external LB that it's
    // stopping"): /healthz fails and the load balancer moves new connections away first.
    ...(lb ? [`grace ${lb.graceSeconds}s`] : []),
  ]);
}

/**
 * Behind the load balancer: its PROXY v2 header carries the client's address and the listener
 * port, on traffic and health checks alike; only the container's own healthcheck (loopback) comes
 * without one. A stopping gateway fails /healthz and closes keep-alive connections after their
 * next answer, so clients reconnect through the load balancer to another gateway.
 */
function frontDoorRules(lb: BehindLoadBalancer): { connection: string[]; health: string[]; request: string[] } {
  // The TLS listener's port, as the PROXY header's destination port shows it.
  const https = `{ dst_port ${HTTPS_PORT} }`;
  return {
    connection: ["tcp-request connection expect-proxy layer4 if !{ src 127.0.0.1 }"],
    health: [
      `http-request return status 503 content-type text/plain string "stopping\\n" if { path ${GATEWAY_HEALTH_PATH} } { stopping }`,
    ],
    request: [
      ...(lb.redirectToHttps ? [`http-request redirect scheme https code 308 if !${https}`] : []),
      // Set, never passed through: a client can't claim a scheme it didn't use.
      `http-request set-header X-Forwarded-Proto https if ${https}`,
      `http-request set-header X-Forwarded-Proto http if !${https}`,
      "http-after-response set-header Connection close if { stopping }",
    ],
  };
}

function renderResolvers(nameserver: string): string {
  return block("resolvers swarm", [
    `nameserver docker ${nameserver}`,
    // Swarm answers up to the client's EDNS size; the default 512 bytes holds only ~15-30 task
    // IPs and older HAProxy versions drop truncated answers, which empties every slot.
    "accepted_payload_size 8192",
    "resolve_retries 3",
    // Re-resolve every second: Swarm drops a task from DNS 2 s before it sends SIGTERM.
    "timeout resolve 1s",
    "timeout retry 1s",
    // `hold valid` only affects do-resolve; the others keep a server after a bad answer so a
    // DNS hiccup (e.g. moby#53141's NXDOMAIN) does not take healthy tasks down at once.
    "hold valid 10s",
    "hold obsolete 0s",
    "hold nx 5s",
    "hold refused 10s",
    "hold timeout 10s",
    "hold other 10s",
  ]);
}

function renderDefaults(accessLog: GatewayAccessLog): string {
  return block("defaults", [
    "mode http",
    "log global",
    "option httplog",
    "option dontlognull",
    // Errors only: 5xx, timeouts, retries, redispatches and aborted streams are still logged.
    ...(accessLog === "errors" ? ["option dontlog-normal"] : []),
    "option forwardfor",
    // Fail fast instead of hanging: a dead task refuses or times out in 2 s and the request
    // moves on; nothing queues longer than 5 s.
    "timeout connect 2s",
    "timeout queue 5s",
    "timeout client 30s",
    "timeout server 30s",
    "timeout http-request 10s",
    "timeout http-keep-alive 10s",
    "timeout check 2s",
    "timeout tunnel 1h",
    // Retry on another task when a connection fails or a reused keep-alive connection closes
    // without an answer (a task that was just stopped); both are safe to replay.
    "retries 3",
    "retry-on conn-failure empty-response",
    "option redispatch 1",
    "http-reuse safe",
    // Never resolve with libc: the server starts DOWN and DNS fills the slots.
    "default-server init-addr none resolvers swarm resolve-prefer ipv4 inter 2s fastinter 1s downinter 2s fall 2 rise 2 slowstart 5s",
  ]);
}

function aclName(index: number): string {
  return `route_${index}`;
}

function renderFrontend(ordered: HaproxyRoute[], listenPort: number, lb: BehindLoadBalancer | undefined): string {
  const door = lb ? frontDoorRules(lb) : { connection: [], health: [], request: [] };
  const lines = [
    `bind :${listenPort}`,
    ...door.connection,
    ...door.health,
    // The gateway's own health, for the load balancer; answered before any routing.
    `http-request return status 200 content-type text/plain string "ok\\n" if { path ${GATEWAY_HEALTH_PATH} }`,
    ...door.request,
  ];
  let defaultBackend = "be_not_found";
  ordered.forEach((route, index) => {
    const prefix = normalizePrefix(route.path);
    if (prefix === "/") {
      return;
    }
    lines.push(`acl ${aclName(index)} path ${prefix}`, `acl ${aclName(index)} path_beg ${prefix}/`);
  });
  // The route's prefix, for the 503 text; the catch-all "/" first so a longer match overrides it.
  const root = ordered.find((route) => normalizePrefix(route.path) === "/");
  if (root !== undefined) {
    lines.push("http-request set-var(txn.route) str(/)");
  }
  ordered.forEach((route, index) => {
    const prefix = normalizePrefix(route.path);
    if (prefix !== "/") {
      lines.push(`http-request set-var(txn.route) str(${prefix}) if ${aclName(index)}`);
    }
  });
  ordered.forEach((route, index) => {
    if (normalizePrefix(route.path) === "/") {
      defaultBackend = backendName(route);
    } else {
      lines.push(`use_backend ${backendName(route)} if ${aclName(index)}`);
    }
  });
  lines.push(`default_backend ${defaultBackend}`);
  return block("frontend gateway", lines);
}

function renderBackends(
  ordered: HaproxyRoute[],
  stackName: string | undefined,
  slots: number,
  hostOf: (route: HaproxyRoute, stackName: string | undefined) => string,
): string[] {
  const byBackend = new Map<string, HaproxyRoute>();
  for (const route of ordered) {
    if (!byBackend.has(backendName(route))) {
      byBackend.set(backendName(route), route);
    }
  }
  return [...byBackend.keys()].sort().map((name) => {
    const route = byBackend.get(name)!;
    const health = route.healthPath ?? DEFAULT_SERVICE_HEALTH_PATH;
    const prefix = serverPrefix(route);
    return block(`backend ${name}`, [
      "balance roundrobin",
      "option httpchk",
      `http-check send meth GET uri ${health} ver HTTP/1.1 hdr Host gateway`,
      "http-check expect ! rstatus ^5",
      // No usable task: answer at once instead of queueing until a timeout.
      `http-request return status 503 content-type text/plain lf-string "503 no healthy task of service ${route.service} for route %[var(txn.route)]\\n" if { nbsrv eq 0 }`,
      `server-template ${prefix} ${slots} ${hostOf(route, stackName)}:${route.port} check`,
    ]);
  });
}

function renderNotFound(): string {
  return block("backend be_not_found", [
    `http-request return status 404 content-type text/plain lf-string "404 no route for %[path]\\n"`,
  ]);
}

function renderStats(port: number): string {
  return block("frontend stats", [
    `bind :${port}`,
    "http-request use-service prometheus-exporter if { path /metrics }",
    "stats enable",
    "stats uri /",
    "stats refresh 5s",
    "stats show-legends",
  ]);
}
