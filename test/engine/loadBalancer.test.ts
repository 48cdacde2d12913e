import { firewallRules } from "../program/engine/firewall";
import { standInOf } from "../program/engine/loadBalancer";

// The harness's load balancer, read from the engine's state: what the stand-in runs.

const TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gw/1";
const LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/dev/1";
const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/1";

const state = (targetGroup: Record<string, unknown> = {}) => [
  { type: "aws:lb/loadBalancer:LoadBalancer", outputs: { arn: LB, securityGroups: ["sg-lb"] } },
  { type: "aws:lb/targetGroup:TargetGroup", outputs: { arn: TG, port: 80, ...targetGroup } },
  {
    type: "aws:lb/listener:Listener",
    outputs: {
      loadBalancerArn: LB,
      port: 80,
      protocol: "TCP",
      defaultActions: [{ type: "forward", targetGroupArn: TG }],
    },
  },
  {
    type: "aws:lb/listener:Listener",
    outputs: {
      loadBalancerArn: LB,
      port: 443,
      protocol: "TLS",
      certificateArn: CERT,
      defaultActions: [{ type: "forward", targetGroupArn: TG }],
    },
  },
  { type: "aws:ec2/instance:Instance", outputs: { id: "i-1", privateIp: "10.0.1.10", vpcSecurityGroupIds: ["sg-gw"] } },
  { type: "aws:ec2/instance:Instance", outputs: { id: "i-2", privateIp: "10.0.2.10", vpcSecurityGroupIds: ["sg-gw"] } },
  { type: "aws:lb/targetGroupAttachment:TargetGroupAttachment", outputs: { targetGroupArn: TG, targetId: "i-1" } },
  {
    type: "aws:lb/targetGroupAttachment:TargetGroupAttachment",
    outputs: { targetGroupArn: TG, targetId: "i-2", port: 81 },
  },
];

describe("standInOf", () => {
  it("is undefined without a load balancer", () => {
    expect(standInOf(state().slice(1), () => "")).toBeUndefined();
  });

  it("reads listeners, certificates, targets and the settings the program gave", () => {
    const settings = {
      deregistrationDelay: 20,
      proxyProtocolV2: true,
      preserveClientIp: "false",
      healthCheck: {
        protocol: "HTTP",
        path: "/healthz",
        interval: 5,
        timeout: 2,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
      },
      targetHealthStates: [{ enableUnhealthyConnectionTermination: false }],
    };
    expect(standInOf(state(settings), (arn) => `/certs/${arn.split("/")[1]}.pem`)).toEqual({
      listeners: [
        { port: 80, protocol: "TCP", targetGroup: "gw" },
        { port: 443, protocol: "TLS", targetGroup: "gw", certificatePem: "/certs/1.pem" },
      ],
      targetGroups: [
        {
          name: "gw",
          port: 80,
          healthCheck: {
            protocol: "HTTP",
            path: "/healthz",
            port: "traffic-port",
            intervalSeconds: 5,
            timeoutSeconds: 2,
            healthyThreshold: 2,
            unhealthyThreshold: 2,
            matcher: "200-399",
          },
          deregistrationDelaySeconds: 20,
          proxyProtocolV2: true,
          preserveClientIp: false,
          terminateOnUnhealthy: false,
          targets: [{ ip: "10.0.1.10" }, { ip: "10.0.2.10", port: 81 }],
        },
      ],
    });
  });

  it("takes AWS's defaults for what the program left unset: TCP checks every 30 s, 300 s delay, client address kept", () => {
    const group = standInOf(state(), () => "")!.targetGroups[0];
    expect(group).toMatchObject({
      healthCheck: {
        protocol: "TCP",
        intervalSeconds: 30,
        timeoutSeconds: 10,
        healthyThreshold: 5,
        unhealthyThreshold: 2,
      },
      deregistrationDelaySeconds: 300,
      proxyProtocolV2: false,
      preserveClientIp: true,
      terminateOnUnhealthy: true,
    });
  });

  it("refuses a listener action an NLB doesn't have", () => {
    const resources = state();
    resources[2].outputs.defaultActions = [{ type: "redirect" } as never];
    expect(() => standInOf(resources, () => "")).toThrow(/only forwards/);
  });
});

describe("firewallRules with a load balancer", () => {
  it("counts the load balancer's address as a member of its security groups", () => {
    const resources = [
      ...state().map((r) => (r.type.endsWith("Instance") ? { ...r, machine: r.outputs.id } : r)),
      {
        type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        outputs: {
          securityGroupId: "sg-gw",
          referencedSecurityGroupId: "sg-lb",
          ipProtocol: "tcp",
          fromPort: 80,
          toPort: 80,
        },
      },
    ];
    expect(firewallRules(resources, "10.0.0.3").get("i-1")).toEqual([
      { protocol: "tcp", fromPort: 80, toPort: 80, sources: ["10.0.0.3/32"] },
    ]);
    expect(firewallRules(resources).get("i-1")).toEqual([{ protocol: "tcp", fromPort: 80, toPort: 80, sources: [] }]);
  });
});
