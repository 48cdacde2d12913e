/**
 * The harness's stand-in for an AWS Network Load Balancer: what the program registered (listeners,
 * target groups, health checks, targets, certificates) rendered as the configuration of a real
 * HAProxy in TCP mode, which test/harness/hosts.sh `lb` runs in a network namespace of its own.
 * It behaves like an NLB at the level the product relies on:
 * - a TCP listener forwards connections; a TLS listener terminates TLS with the listener's
 *   certificate and forwards the plain stream (NLB TLS listener → TCP target group);
 * - health checks (HTTP or TCP) every `intervalSeconds`, a target taken out after
 *   `unhealthyThreshold` failures in a row and back after `healthyThreshold` successes; no new
 *   connection goes to an unhealthy target, and its open ones are closed when the target group
 *   says so (NLB's unhealthy connection termination, on by default);
 * - every target unhealthy: traffic goes to all of them (NLB "fails open");
 * - a deregistered target gets no new connection; its open ones last until the deregistration
 *   delay (the old HAProxy worker after a reload, bounded by `hard-stop-after`);
 * - targets see the stand-in's address as the source, or the client's in a PROXY v2 header when
 *   the target group enables proxy protocol v2, as on AWS (health checks included);
 * - health checks on the NLB's cadence while a target goes down (`fastinter`, see backend()); a
 *   target coming back is checked at that shorter interval too, so it returns up to a few seconds
 *   sooner than on AWS.
 * Not modelled: client IP preservation without proxy protocol (it needs transparent proxying), flow
 * hashing (the stand-in balances round robin), several availability zones (one stand-in is
 * cross-zone by nature), and the idle timeout of 350 s.
 */

export interface StandInHealthCheck {
  protocol: "HTTP" | "TCP";
  /** HTTP only. */
  path?: string;
  /** `traffic-port` (the target's) or a port number. */
  port: "traffic-port" | number;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** HTTP status codes that count as healthy, as AWS writes them: `200-399`, `200,204`. */
  matcher: string;
}

export interface StandInTargetGroup {
  name: string;
  port: number;
  healthCheck: StandInHealthCheck;
  deregistrationDelaySeconds: number;
  proxyProtocolV2: boolean;
  preserveClientIp: boolean;
  /** Close a target's open connections when it turns unhealthy (AWS default: true). */
  terminateOnUnhealthy: boolean;
  targets: { ip: string; port?: number }[];
}

export interface StandInListener {
  port: number;
  protocol: "TCP" | "TLS";
  targetGroup: string;
  /** TLS only: path of a PEM file holding the certificate chain and its key. */
  certificatePem?: string;
}

export interface StandIn {
  listeners: StandInListener[];
  targetGroups: StandInTargetGroup[];
}

/** What the stand-in can't do as the AWS part does: refused rather than silently different. */
export function standInProblems(lb: StandIn): string[] {
  const groups = new Map(lb.targetGroups.map((g) => [g.name, g]));
  return [
    ...lb.listeners.flatMap((l) => [
      ...(groups.has(l.targetGroup) ? [] : [`listener ${l.port} forwards to an unknown target group ${l.targetGroup}`]),
      ...(l.protocol === "TLS" && !l.certificatePem ? [`TLS listener ${l.port} has no certificate`] : []),
    ]),
    ...lb.targetGroups
      .filter((g) => g.preserveClientIp && !g.proxyProtocolV2)
      .map((g) => `target group ${g.name} preserves client addresses without proxy protocol: not modelled`),
  ];
}

/** AWS's matcher (`200-399`, `200,204`) as an HAProxy `http-check expect` rule (every code listed). */
function expectRule(matcher: string): string {
  const codes = matcher.split(",").flatMap((part) => {
    const [from, to = from] = part.trim().split("-").map(Number);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
  return `http-check expect rstatus ^(${codes.join("|")})$`;
}

function backend(group: StandInTargetGroup): string[] {
  const check = group.healthCheck;
  const options = [
    "check",
    `inter ${check.intervalSeconds}s`,
    // The NLB checks every interval, however long a check takes; HAProxy waits `inter` after a
    // check ends, so each timed-out check would add its timeout. While a target is going down or
    // coming up it waits `fastinter` instead: interval − timeout puts the failing checks on the
    // NLB's cadence (measured: down 8.5–12.2 s after going silent, AWS's window 8–13 s).
    `fastinter ${Math.max(1, check.intervalSeconds - check.timeoutSeconds)}s`,
    `rise ${check.healthyThreshold}`,
    `fall ${check.unhealthyThreshold}`,
    ...(check.port === "traffic-port" ? [] : [`port ${check.port}`]),
    // AWS: "the proxy protocol header is also included in health check connections".
    ...(group.proxyProtocolV2 ? ["send-proxy-v2", "check-send-proxy"] : []),
    ...(group.terminateOnUnhealthy ? ["on-marked-down shutdown-sessions"] : []),
  ];
  const servers = group.targets.map((t) => ({
    name: `${t.ip}:${t.port ?? group.port}`,
    address: `${t.ip}:${t.port ?? group.port}`,
  }));
  return [
    `backend tg-${group.name}`,
    "  balance roundrobin",
    `  timeout check ${check.timeoutSeconds}s`,
    ...(check.protocol === "HTTP"
      ? [
          "  option httpchk",
          `  http-check send meth GET uri ${check.path ?? "/"} ver HTTP/1.1 hdr Host ${group.name}`,
          `  ${expectRule(check.matcher)}`,
        ]
      : []),
    `  default-server ${options.join(" ")}`,
    ...servers.map((s) => `  server ${s.name} ${s.address}`),
    // Fail open: the same targets as unchecked backups, used (all of them) only when no target passes.
    "  option allbackups",
    ...servers.map((s) => `  server open-${s.name} ${s.address} backup no-check`),
  ];
}

/** The stand-in's HAProxy configuration; throws on anything `standInProblems` reports. */
export function renderStandIn(lb: StandIn): string {
  const problems = standInProblems(lb);
  if (problems.length > 0) {
    throw new Error(`the load balancer stand-in can't model this: ${problems.join("; ")}`);
  }
  const delay = Math.max(1, ...lb.targetGroups.map((g) => g.deregistrationDelaySeconds));
  const lines = [
    "global",
    // Enough for the tests' load; more would need a file limit above this machine's.
    "  maxconn 4096",
    // After a reload (a target deregistered), the old worker keeps its connections this long.
    `  hard-stop-after ${delay}s`,
    "",
    "defaults",
    "  mode tcp",
    "  timeout connect 10s",
    // NLB's TCP idle timeout.
    "  timeout client 350s",
    "  timeout server 350s",
    "",
    ...lb.listeners.flatMap((l) => [
      `frontend listener-${l.port}`,
      `  bind :${l.port}${l.protocol === "TLS" ? ` ssl crt ${l.certificatePem} ssl-min-ver TLSv1.2` : ""}`,
      `  default_backend tg-${l.targetGroup}`,
      "",
    ]),
    ...lb.targetGroups.flatMap((g) => [...backend(g), ""]),
  ];
  return lines.join("\n");
}
