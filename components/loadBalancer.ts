import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  DEREGISTRATION_DELAY_SECONDS,
  frontDoorUrl,
  HEALTH_CHECK,
  isZoneId,
  ListenerPlan,
  LoadBalancerPlan,
  TLS_POLICY,
} from "../lib/loadBalancer";
import { NodeInstance } from "./nodeGroup";

export interface LoadBalancerArgs {
  plan: LoadBalancerPlan;
  clusterName: string;
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<string>[];
  securityGroupId: pulumi.Input<string>;
  /** The nodes that run the gateway: the targets. */
  targets: NodeInstance[];
  /**
   * A target is registered after these (its node's swarm membership) and so deregistered before
   * them: a node being removed leaves the load balancer before its gateway is drained.
   */
  registerAfter: pulumi.Resource[];
  tags: Record<string, string>;
}

/**
 * The cluster's front door: a Network Load Balancer in the public subnets, cross-zone, forwarding
 * TCP (and, with a domain, TLS terminated here with an ACM certificate) to the gateway port of the
 * gateway nodes, with proxy protocol v2 so the gateway sees the client's address and the listener
 * port (the scheme). With a domain: the certificate, validated by a DNS record in the domain's
 * Route 53 zone, and an alias record for the domain.
 */
export class LoadBalancer extends pulumi.ComponentResource {
  /** The address users give their clients. */
  public readonly url: pulumi.Output<string>;
  public readonly dnsName: pulumi.Output<string>;

  constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:network:LoadBalancer", name, {}, opts);
    const { plan, tags } = args;

    const balancer = new aws.lb.LoadBalancer(
      `${name}-nlb`,
      {
        // At most 32 characters: the cluster name has at most 28.
        name: args.clusterName,
        loadBalancerType: "network",
        internal: false,
        subnets: args.subnetIds,
        securityGroups: [args.securityGroupId],
        enableCrossZoneLoadBalancing: true,
        tags: { ...tags, Name: args.clusterName },
      },
      { parent: this },
    );
    const targetGroup = this.targetGroup(name, args);
    this.attachTargets(name, args, targetGroup);
    const zoneId = plan.domain !== undefined ? this.zoneId(plan.hostedZone!) : undefined;
    const certificate = plan.domain !== undefined ? this.certificate(name, plan.domain, zoneId!, tags) : undefined;
    plan.listeners.forEach((listener) => this.listener(name, listener, balancer, targetGroup, certificate, tags));
    if (plan.domain !== undefined) {
      new aws.route53.Record(
        `${name}-alias`,
        {
          zoneId: zoneId!,
          name: plan.domain,
          type: "A",
          aliases: [{ name: balancer.dnsName, zoneId: balancer.zoneId, evaluateTargetHealth: true }],
        },
        { parent: this },
      );
    }

    this.dnsName = balancer.dnsName;
    this.url = balancer.dnsName.apply((dnsName) => frontDoorUrl(plan, dnsName));
    this.registerOutputs({ url: this.url, dnsName: this.dnsName });
  }

  private targetGroup(name: string, args: LoadBalancerArgs): aws.lb.TargetGroup {
    return new aws.lb.TargetGroup(
      `${name}-gateway`,
      {
        // Generated names (at most 32 characters): a replaced group is made before the old one goes.
        namePrefix: "gw-",
        vpcId: args.vpcId,
        port: args.plan.targetPort,
        protocol: "TCP",
        targetType: "instance",
        // The client's address and the listener port reach the gateway in a PROXY v2 header, so the
        // nodes see the load balancer's address and their rules can name its security group.
        proxyProtocolV2: true,
        preserveClientIp: "false",
        deregistrationDelay: DEREGISTRATION_DELAY_SECONDS,
        healthCheck: { ...HEALTH_CHECK },
        // A stopping gateway fails its check while it still serves: its open connections must
        // finish (it answers them with `Connection: close`), not be cut when it turns unhealthy.
        targetHealthStates: [{ enableUnhealthyConnectionTermination: false }],
        tags: { ...args.tags, Name: `${args.clusterName}-gateway` },
      },
      { parent: this },
    );
  }

  private attachTargets(name: string, args: LoadBalancerArgs, targetGroup: aws.lb.TargetGroup): void {
    for (const node of args.targets) {
      new aws.lb.TargetGroupAttachment(
        `${name}-target-${node.plan.key}`,
        { targetGroupArn: targetGroup.arn, targetId: node.instance.id, port: args.plan.targetPort },
        // With the whole group gone, its registrations are gone too: nothing to deregister.
        { parent: this, dependsOn: args.registerAfter, deletedWith: targetGroup },
      );
    }
  }

  private certificate(
    name: string,
    domain: string,
    zoneId: pulumi.Output<string>,
    tags: Record<string, string>,
  ): pulumi.Output<string> {
    const certificate = new aws.acm.Certificate(
      `${name}-certificate`,
      { domainName: domain, validationMethod: "DNS", tags: { ...tags, Name: domain } },
      { parent: this },
    );
    // One name, so one validation record, known without waiting for the certificate's answer.
    const option = certificate.domainValidationOptions[0];
    const record = new aws.route53.Record(
      `${name}-certificate-validation`,
      {
        zoneId,
        name: option.resourceRecordName,
        type: option.resourceRecordType,
        records: [option.resourceRecordValue],
        ttl: 300,
        allowOverwrite: true,
      },
      { parent: this },
    );
    return new aws.acm.CertificateValidation(
      `${name}-certificate-issued`,
      { certificateArn: certificate.arn, validationRecordFqdns: [record.fqdn] },
      { parent: this },
    ).certificateArn;
  }

  private listener(
    name: string,
    listener: ListenerPlan,
    balancer: aws.lb.LoadBalancer,
    targetGroup: aws.lb.TargetGroup,
    certificateArn: pulumi.Output<string> | undefined,
    tags: Record<string, string>,
  ): void {
    const tls = listener.protocol === "TLS";
    new aws.lb.Listener(
      `${name}-listener-${listener.port}`,
      {
        loadBalancerArn: balancer.arn,
        port: listener.port,
        protocol: listener.protocol,
        ...(tls && { certificateArn, sslPolicy: TLS_POLICY }),
        defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
        tags,
      },
      { parent: this },
    );
  }

  /** The domain's hosted zone: the configured id, or the public zone of that name (looked up once). */
  private zoneId(hostedZone: string): pulumi.Output<string> {
    return isZoneId(hostedZone)
      ? pulumi.output(hostedZone)
      : aws.route53.getZoneOutput({ name: hostedZone, privateZone: false }, { parent: this }).zoneId;
  }
}
