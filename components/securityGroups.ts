import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { RuleGroup, SecurityRule } from "../lib/securityRules";

export interface SecurityGroupsArgs {
  vpcId: pulumi.Input<string>;
  rules: SecurityRule[];
  tags: Record<string, string>;
}

const DESCRIPTIONS: Record<RuleGroup, string> = {
  cluster: "Docker Swarm nodes: swarm traffic between members, SSH from admins",
  // As first created: a description change replaces the group.
  gateway: "Docker Swarm gateway nodes: the public gateway port",
  loadBalancer: "Docker Swarm load balancer: its listeners, and the gateway nodes behind it",
};

/**
 * The cluster group (every node), the gateway group (only nodes running the gateway) and, when a
 * rule names it, the load balancer's group, with one rule resource per table entry and no inline
 * rules, so rules can change without a diff war.
 */
export class SecurityGroups extends pulumi.ComponentResource {
  public readonly clusterGroupId: pulumi.Output<string>;
  public readonly gatewayGroupId: pulumi.Output<string>;
  /** Set when the rules include the load balancer's. */
  public readonly loadBalancerGroupId?: pulumi.Output<string>;
  /**
   * Every rule. They are children of their group, so depending on this component does not reach
   * them: what must outlive the rules (the instances) depends on these.
   */
  public readonly rules: pulumi.Resource[];

  constructor(name: string, args: SecurityGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:network:SecurityGroups", name, {}, opts);

    const roles = new Set<RuleGroup>(["cluster", "gateway", ...args.rules.map((rule) => rule.group)]);
    const groups = Object.fromEntries(
      [...roles].map((role) => [
        role,
        new aws.ec2.SecurityGroup(
          `${name}-${role}`,
          {
            vpcId: args.vpcId,
            description: DESCRIPTIONS[role],
            revokeRulesOnDelete: true,
            tags: { ...args.tags, Name: `${name}-${role}` },
          },
          { parent: this },
        ),
      ]),
    ) as Record<RuleGroup, aws.ec2.SecurityGroup>;

    this.rules = args.rules.map((rule) => {
      const ruleArgs = {
        securityGroupId: groups[rule.group].id,
        ipProtocol: rule.protocol,
        fromPort: rule.fromPort,
        toPort: rule.toPort,
        cidrIpv4: "cidr" in rule.source ? rule.source.cidr : undefined,
        referencedSecurityGroupId: "group" in rule.source ? groups[rule.source.group].id : undefined,
        description: rule.description,
        tags: { ...args.tags, Name: `${name}-${rule.key}` },
      };
      const ruleName = `${name}-${rule.direction}-${rule.key}`;
      const ruleOpts = { parent: groups[rule.group] };
      return rule.direction === "ingress"
        ? new aws.vpc.SecurityGroupIngressRule(ruleName, ruleArgs, ruleOpts)
        : new aws.vpc.SecurityGroupEgressRule(ruleName, ruleArgs, ruleOpts);
    });
    this.clusterGroupId = groups.cluster.id;
    this.gatewayGroupId = groups.gateway.id;
    this.loadBalancerGroupId = groups.loadBalancer?.id;

    this.registerOutputs({ clusterGroupId: this.clusterGroupId, gatewayGroupId: this.gatewayGroupId });
  }
}
