import { StandInTargetGroup } from "../program/loadBalancerStandIn";

/**
 * A target group "web" on port 7200 with an HTTP check of /healthz (AWS's matcher 200-399), no
 * proxy protocol and the client address not kept: the shape the stand-in tests vary.
 */
export function webTargetGroup(extra: Partial<StandInTargetGroup> = {}): StandInTargetGroup {
  return {
    name: "web",
    port: 7200,
    deregistrationDelaySeconds: 20,
    proxyProtocolV2: false,
    preserveClientIp: false,
    terminateOnUnhealthy: true,
    healthCheck: {
      protocol: "HTTP",
      path: "/healthz",
      port: "traffic-port",
      intervalSeconds: 5,
      timeoutSeconds: 3,
      healthyThreshold: 2,
      unhealthyThreshold: 3,
      matcher: "200-399",
    },
    targets: [],
    ...extra,
  };
}
