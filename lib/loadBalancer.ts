/**
 * The front door as data: the Network Load Balancer's listeners, its target group's health check
 * and draining settings, and how they fit the gateway's own draining (lib/haproxy.ts). Why these
 * numbers: docs/stack-and-gateway.md, "The load balancer and draining".
 */
import { GATEWAY_HEALTH_PATH } from "./defaults";
import { GatewayConfig } from "./types";

export const HTTP_PORT = 80;
export const HTTPS_PORT = 443;

/**
 * The target group's health check. AWS's fastest for a Network Load Balancer: every 5 s, two
 * failures to take a target out, two successes to put it back (ELB API, CreateTargetGroup:
 * interval 5–300 s, thresholds 2–10). A stopping gateway is out within interval × unhealthy
 * threshold + timeout = 13 s.
 */
export const HEALTH_CHECK = {
  protocol: "HTTP",
  path: GATEWAY_HEALTH_PATH,
  port: "traffic-port",
  interval: 5,
  timeout: 3,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
  matcher: "200-399",
} as const;

/** Longest a target stays in the load balancer's view after its health check starts failing. */
export const UNHEALTHY_AFTER_SECONDS = HEALTH_CHECK.interval * HEALTH_CHECK.unhealthyThreshold + HEALTH_CHECK.timeout;

/**
 * Seconds a stopping gateway keeps accepting connections while its health check fails (HAProxy's
 * `grace`): more than twice UNHEALTHY_AFTER_SECONDS, as every load balancer node checks on its own.
 */
export const GATEWAY_GRACE_SECONDS = 30;

/**
 * Seconds a deregistered gateway (a node being removed) keeps its open connections: the grace
 * period plus HAProxy's `hard-stop-after` (30 s) for requests still in flight.
 */
export const DEREGISTRATION_DELAY_SECONDS = 60;

/** NLB TLS listener policy: TLS 1.3 and 1.2 with forward secrecy only (AWS's recommended policy). */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

export interface ListenerPlan {
  port: number;
  protocol: "TCP" | "TLS";
}

export interface LoadBalancerPlan {
  listeners: ListenerPlan[];
  /** The target port on the gateway nodes: `gateway.port`. */
  targetPort: number;
  domain?: string;
  hostedZone?: string;
}

/** The front door for this gateway config; undefined when `gateway.loadBalancer` is off. */
export function planLoadBalancer(gateway: GatewayConfig): LoadBalancerPlan | undefined {
  if (!gateway.loadBalancer) return undefined;
  const listeners: ListenerPlan[] = [{ port: HTTP_PORT, protocol: "TCP" }];
  if (gateway.domain !== undefined) listeners.push({ port: HTTPS_PORT, protocol: "TLS" });
  return {
    listeners,
    targetPort: gateway.port,
    ...(gateway.domain !== undefined && { domain: gateway.domain, hostedZone: gateway.hostedZone }),
  };
}

/** The address users give their clients: the domain over HTTPS, or the load balancer's own name. */
export function frontDoorUrl(plan: LoadBalancerPlan, dnsName: string): string {
  return plan.domain !== undefined ? `https://${plan.domain}` : `http://${dnsName}`;
}

/**
 * True when `hostedZone` is a Route 53 zone id as the console shows it (`Z` and up to 31 upper-case
 * letters and digits), not a zone name to look up. Validation and the component share it.
 */
export function isZoneId(hostedZone: string): boolean {
  return /^Z[A-Z0-9]{1,31}$/.test(hostedZone);
}
