/**
 * The load balancer the program registered, as the harness's stand-in should run it: the network
 * load balancer's listeners, their target groups with health checks and attached instances, read
 * from the engine's state. Unset settings take AWS's defaults for a TCP target group of instances
 * (ELBv2 API reference, TargetGroupAttributes and CreateTargetGroup).
 */
import { StandIn, StandInHealthCheck, StandInTargetGroup } from "../loadBalancerStandIn";
import { unwrapSecrets } from "../types";
import { INSTANCE, LOAD_BALANCER } from "./firewall";

export { LOAD_BALANCER };
export const LISTENER = "aws:lb/listener:Listener";
export const TARGET_GROUP = "aws:lb/targetGroup:TargetGroup";
export const ATTACHMENT = "aws:lb/targetGroupAttachment:TargetGroupAttachment";
export const CERTIFICATE = "aws:acm/certificate:Certificate";

/** AWS's defaults for a TCP target group (an NLB's). */
const DEFAULTS = {
  deregistrationDelay: 300,
  healthCheck: { protocol: "TCP", interval: 30, healthyThreshold: 5, unhealthyThreshold: 2, matcher: "200-399" },
  /** 10 s for TCP checks, 6 s for HTTP ones. */
  timeout: (protocol: string) => (protocol === "TCP" ? 10 : 6),
};

interface StateLike {
  type: string;
  outputs: Record<string, any>;
}

/** AWS takes booleans of target group attributes as strings too. */
function flag(value: unknown, fallback: boolean): boolean {
  return value === undefined || value === null ? fallback : String(value) === "true";
}

function healthCheckOf(input: Record<string, any> = {}): StandInHealthCheck {
  const protocol = String(input.protocol ?? DEFAULTS.healthCheck.protocol).toUpperCase();
  if (protocol !== "TCP" && protocol !== "HTTP") {
    throw new Error(`the load balancer stand-in checks over TCP or HTTP, not ${protocol}`);
  }
  const port = input.port === undefined || input.port === "traffic-port" ? "traffic-port" : Number(input.port);
  return {
    protocol,
    path: input.path ?? "/",
    port,
    intervalSeconds: Number(input.interval ?? DEFAULTS.healthCheck.interval),
    timeoutSeconds: Number(input.timeout ?? DEFAULTS.timeout(protocol)),
    healthyThreshold: Number(input.healthyThreshold ?? DEFAULTS.healthCheck.healthyThreshold),
    unhealthyThreshold: Number(input.unhealthyThreshold ?? DEFAULTS.healthCheck.unhealthyThreshold),
    matcher: String(input.matcher ?? DEFAULTS.healthCheck.matcher),
  };
}

/**
 * The stand-in for the state's load balancer, or undefined when there is none.
 * @param pemOf the PEM file (certificate and key) standing in for an ACM certificate, by its ARN
 */
export function standInOf(resources: StateLike[], pemOf: (certificateArn: string) => string): StandIn | undefined {
  const plain = resources.map((r) => ({ type: r.type, outputs: unwrapSecrets(r.outputs) }));
  const of = (type: string) => plain.filter((r) => r.type === type).map((r) => r.outputs);
  const balancers = of(LOAD_BALANCER);
  if (balancers.length === 0) return undefined;
  if (balancers.length > 1) throw new Error("the harness has one load balancer stand-in; the program made more");
  const instanceIp = new Map(of(INSTANCE).map((i) => [i.id, i.privateIp]));
  const attachments = of(ATTACHMENT);
  const targetGroups = of(TARGET_GROUP).map((g): StandInTargetGroup => ({
    name: String(g.name ?? g.arn.split("/")[1]),
    port: Number(g.port),
    healthCheck: healthCheckOf(g.healthCheck),
    deregistrationDelaySeconds: Number(g.deregistrationDelay ?? DEFAULTS.deregistrationDelay),
    proxyProtocolV2: flag(g.proxyProtocolV2, false),
    // AWS's default for instance targets over TCP/TLS: the client's address is kept.
    preserveClientIp: flag(g.preserveClientIp, true),
    terminateOnUnhealthy: flag(g.targetHealthStates?.[0]?.enableUnhealthyConnectionTermination, true),
    targets: attachments
      .filter((a) => a.targetGroupArn === g.arn && instanceIp.has(a.targetId))
      .map((a) => ({ ip: instanceIp.get(a.targetId), ...(a.port ? { port: Number(a.port) } : {}) })),
  }));
  const groupName = new Map(of(TARGET_GROUP).map((g, i) => [g.arn, targetGroups[i].name]));
  const listeners = of(LISTENER)
    .filter((l) => l.loadBalancerArn === balancers[0].arn)
    .map((l) => {
      const forward = (l.defaultActions ?? []).find((a: Record<string, any>) => a.type === "forward");
      if (!forward) throw new Error(`listener ${l.port}: the stand-in only forwards (an NLB has no other action)`);
      const protocol = String(l.protocol ?? "TCP").toUpperCase();
      if (protocol !== "TCP" && protocol !== "TLS") throw new Error(`listener ${l.port}: ${protocol} is not modelled`);
      return {
        port: Number(l.port),
        protocol: protocol as "TCP" | "TLS",
        targetGroup: groupName.get(forward.targetGroupArn) ?? String(forward.targetGroupArn),
        ...(l.certificateArn ? { certificatePem: pemOf(l.certificateArn) } : {}),
      };
    });
  return { listeners, targetGroups };
}
