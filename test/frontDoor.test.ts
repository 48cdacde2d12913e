import { DEREGISTRATION_DELAY_SECONDS, HEALTH_CHECK, TLS_POLICY } from "../lib/loadBalancer";
import { devConfig, named, ofType } from "./program/fixtures";
import { mockZoneId } from "./program/mocks";
import { runProgram } from "./program/runner";
import { ProgramResult } from "./program/types";

// The front door (issue 12) as the program registers it, offline: what AWS is asked for. Its
// traffic behaviour runs on the harness's stand-in in test/cluster/loadBalancer.test.ts.

const LB = "aws:lb/loadBalancer:LoadBalancer";
const TARGET_GROUP = "aws:lb/targetGroup:TargetGroup";
const ATTACHMENT = "aws:lb/targetGroupAttachment:TargetGroupAttachment";
const LISTENER = "aws:lb/listener:Listener";
const CERTIFICATE = "aws:acm/certificate:Certificate";
const RECORD = "aws:route53/record:Record";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const INSTANCE = "aws:ec2/instance:Instance";

const edge = (gateway: Record<string, unknown> = {}) =>
  devConfig({
    workerPools: [
      { name: "infra", count: 1, labels: { type: "low-memory" } },
      { name: "edge", count: 2 },
    ],
    availabilityZones: 2,
    gateway: { placement: "edge", routes: [{ path: "/hello", service: "hello", port: 8080 }], ...gateway },
  });

async function up(config: Record<string, unknown>): Promise<ProgramResult> {
  const result = await runProgram({ stack: "dev", config });
  if (!result.ok) throw new Error(result.error);
  return result;
}

describe("the front door without a domain", () => {
  let dev: ProgramResult;
  beforeAll(async () => {
    dev = await up(edge());
  });

  it("is an internet-facing network load balancer over every public subnet, cross-zone, in its own security group", () => {
    const [balancer] = ofType(dev, LB);
    expect(ofType(dev, LB)).toHaveLength(1);
    expect(balancer.inputs).toMatchObject({
      name: "dev",
      loadBalancerType: "network",
      internal: false,
      enableCrossZoneLoadBalancing: true,
      securityGroups: [named(dev, "dev-loadBalancer").state.id],
    });
    expect([...balancer.inputs.subnets].sort()).toEqual(
      ofType(dev, "aws:ec2/subnet:Subnet")
        .map((s) => s.state.id)
        .sort(),
    );
  });

  it("checks the gateway's /healthz every 5 s, 2 failures out, drains 60 s, keeps connections of an unhealthy target", () => {
    const [group] = ofType(dev, TARGET_GROUP);
    expect(group.inputs).toMatchObject({
      port: 80,
      protocol: "TCP",
      targetType: "instance",
      proxyProtocolV2: true,
      preserveClientIp: "false",
      deregistrationDelay: DEREGISTRATION_DELAY_SECONDS,
      healthCheck: { ...HEALTH_CHECK, path: "/healthz", interval: 5, unhealthyThreshold: 2 },
      targetHealthStates: [{ enableUnhealthyConnectionTermination: false }],
    });
    expect(DEREGISTRATION_DELAY_SECONDS).toBe(60);
  });

  it("registers exactly the gateway nodes, on the gateway port, after their swarm membership", () => {
    const targets = ofType(dev, ATTACHMENT);
    const ids = ["dev-edge-0", "dev-edge-1"].map((n) => named(dev, n).state.id);
    expect(targets.map((t) => t.inputs.targetId).sort()).toEqual([...ids].sort());
    for (const target of targets) {
      expect(target.inputs).toMatchObject({ targetGroupArn: ofType(dev, TARGET_GROUP)[0].state.arn, port: 80 });
      expect(target.dependencies).toEqual(expect.arrayContaining([expect.stringContaining("dev-member-edge-0")]));
      expect(target.options?.deletedWith).toBeDefined();
    }
  });

  it("listens on TCP 80 only, forwarding to the gateway group; no certificate, no DNS record", () => {
    const listeners = ofType(dev, LISTENER);
    expect(listeners.map((l) => [l.inputs.port, l.inputs.protocol])).toEqual([[80, "TCP"]]);
    expect(listeners[0].inputs.defaultActions).toEqual([
      { type: "forward", targetGroupArn: ofType(dev, TARGET_GROUP)[0].state.arn },
    ]);
    expect(ofType(dev, CERTIFICATE)).toEqual([]);
    expect(ofType(dev, RECORD)).toEqual([]);
  });

  it("outputs url, the load balancer's own name over HTTP, and no gatewayUrls", () => {
    expect(dev.outputs.url).toBe(`http://${ofType(dev, LB)[0].state.dnsName}`);
    expect(dev.outputs.gatewayUrls).toBeUndefined();
  });

  it("lets only the load balancer and the admin addresses reach the nodes", () => {
    const groupIds = new Set(ofType(dev, INSTANCE).flatMap((i) => i.inputs.vpcSecurityGroupIds));
    const lbGroup = named(dev, "dev-loadBalancer").state.id;
    const external = ofType(dev, INGRESS)
      .filter((r) => groupIds.has(r.inputs.securityGroupId))
      .map((r) => r.inputs.cidrIpv4 ?? (r.inputs.referencedSecurityGroupId === lbGroup ? "load balancer" : "cluster"))
      .filter((source) => source !== "cluster");
    expect([...new Set(external)].sort()).toEqual(["81.2.69.160/32", "load balancer"]);
    const lbRules = [...ofType(dev, INGRESS), ...ofType(dev, EGRESS)].filter(
      (r) => r.inputs.securityGroupId === lbGroup,
    );
    expect(lbRules.map((r) => `${r.type.endsWith("EgressRule") ? "out" : "in"} ${r.inputs.fromPort}`).sort()).toEqual([
      "in 80",
      "out 80",
    ]);
  });

  it("gives Elastic IPs to the managers only: nobody dials a gateway node", () => {
    expect(ofType(dev, "aws:ec2/eip:Eip").map((e) => e.name)).toEqual(["dev-manager-0-eip"]);
  });
});

describe("the front door with a domain", () => {
  let prod: ProgramResult;
  beforeAll(async () => {
    prod = await up(edge({ domain: "app.mycompany.org" }));
  });

  it("adds a TLS listener on 443 with a DNS-validated ACM certificate and a modern policy", () => {
    const certificate = ofType(prod, CERTIFICATE);
    expect(certificate.map((c) => c.inputs)).toEqual([
      expect.objectContaining({ domainName: "app.mycompany.org", validationMethod: "DNS" }),
    ]);
    const issued = ofType(prod, "aws:acm/certificateValidation:CertificateValidation");
    expect(issued).toHaveLength(1);
    expect(issued[0].inputs.certificateArn).toBe(certificate[0].state.arn);
    const tls = ofType(prod, LISTENER).find((l) => l.inputs.port === 443)!;
    expect(tls.inputs).toMatchObject({
      protocol: "TLS",
      sslPolicy: TLS_POLICY,
      certificateArn: certificate[0].state.arn,
    });
    expect(tls.dependencies).toEqual(expect.arrayContaining([expect.stringContaining("dev-certificate-issued")]));
    expect(ofType(prod, LISTENER).map((l) => l.inputs.port)).toEqual([80, 443]);
  });

  it("writes the validation record and an alias for the domain in the zone found by its parent's name", () => {
    const records = ofType(prod, RECORD);
    expect(records.map((r) => r.inputs.zoneId)).toEqual([mockZoneId("mycompany.org"), mockZoneId("mycompany.org")]);
    const certificate = ofType(prod, CERTIFICATE)[0].state;
    const option = certificate.domainValidationOptions[0];
    expect(records.find((r) => r.name === "dev-certificate-validation")!.inputs).toMatchObject({
      name: option.resourceRecordName,
      type: "CNAME",
      records: [option.resourceRecordValue],
    });
    const balancer = ofType(prod, LB)[0].state;
    expect(records.find((r) => r.name === "dev-alias")!.inputs).toMatchObject({
      name: "app.mycompany.org",
      type: "A",
      aliases: [{ name: balancer.dnsName, zoneId: balancer.zoneId, evaluateTargetHealth: true }],
    });
  });

  it("outputs url https://<domain>, and opens 80 and 443 on the load balancer", () => {
    expect(prod.outputs.url).toBe("https://app.mycompany.org");
    const lbGroup = named(prod, "dev-loadBalancer").state.id;
    const ports = ofType(prod, INGRESS)
      .filter((r) => r.inputs.securityGroupId === lbGroup)
      .map((r) => r.inputs.fromPort);
    expect(ports.sort()).toEqual([443, 80]);
  });

  it("uses a hosted zone given by id as it is", async () => {
    const given = await up(edge({ domain: "app.mycompany.org", hostedZone: "Z0123456789ABCDEFGHIJ" }));
    expect(ofType(given, RECORD).map((r) => r.inputs.zoneId)).toEqual([
      "Z0123456789ABCDEFGHIJ",
      "Z0123456789ABCDEFGHIJ",
    ]);
  });
});

describe("without the load balancer (gateway.loadBalancer: false)", () => {
  let cheap: ProgramResult;
  beforeAll(async () => {
    cheap = await up(edge({ loadBalancer: false }));
  });

  it("registers no load balancer part, and opens the gateway port to the public CIDRs on the gateway nodes", () => {
    for (const type of [LB, TARGET_GROUP, ATTACHMENT, LISTENER, CERTIFICATE, RECORD]) {
      expect(ofType(cheap, type)).toEqual([]);
    }
    expect(cheap.resources.some((r) => r.name === "dev-loadBalancer")).toBe(false);
    const gatewayGroup = named(cheap, "dev-gateway").state.id;
    const rules = ofType(cheap, INGRESS).filter((r) => r.inputs.securityGroupId === gatewayGroup);
    expect(rules.map((r) => `${r.inputs.fromPort} from ${r.inputs.cidrIpv4}`)).toEqual(["80 from 0.0.0.0/0"]);
  });

  it("outputs gatewayUrls on the gateway nodes' Elastic IPs, and url as the first of them", () => {
    const ips = ["dev-edge-0-eip", "dev-edge-1-eip"].map((n) => named(cheap, n).state.publicIp);
    expect(cheap.outputs.gatewayUrls).toEqual(ips.map((ip) => `http://${ip}:80`));
    expect(cheap.outputs.url).toBe(`http://${ips[0]}:80`);
  });
});
