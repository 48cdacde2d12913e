import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { RuleGroup, SecurityRule } from "../lib/securityRules";

export interface SecurityGroupsArgs {
  vpcId: pulumi.Input<string>;
  rules: SecurityRule[];
  tags: Record<string, string>;
}

/**
 * The cluster group (every node) and the gateway group (only nodes running the gateway), with
 * one rule resource per table entry and no inline rules, so rules can change without a diff war.
 */
export class SecurityGroups extends pulumi.ComponentResource {
  public readonly clusterGroupId: pulumi.Output<string>;
  public readonly gatewayGroupId: pulumi.Output<string>;
  /**
   * Every rule. They are children of their group, so depending on this component does not reach
   * them: what must outlive the rules (the instances) depends on these.
   */
  public readonly rules: pulumi.Resource[];

  constructor(name: string, args: SecurityGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:network:SecurityGroups", name, {}, opts);

    const group = (role: RuleGroup, description: string) =>
      new aws.ec2.SecurityGroup(
        `${name}-${role}`,
        {
          vpcId: args.vpcId,
          description,
          revokeRulesOnDelete: true,
          tags: { ...args.tags, Name: `${name}-${role}` },
        },
        { parent: this },
      );
    const groups: Record<RuleGroup, aws.ec2.SecurityGroup> = {
      cluster: group("cluster", "Docker Swarm nodes: swarm traffic between members, SSH from admins"),
      gateway: group("gateway", "Docker Swarm gateway nodes: the public gateway port"),
    };

    this.rules = args.rules.map((rule) => {
      const ruleArgs = {
        securityGroupId: groups[rule.group].id,
        ipProtocol: rule.protocol,
        fromPort: rule.fromPort,
        toPort: rule.toPort,
        cidrIpv4: "cidr" in rule.source ? rule.source.cidr : undefined,
        referencedSecurityGroupId: "clusterGroup" in rule.source ? groups.cluster.id : undefined,
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

    this.registerOutputs({ clusterGroupId: this.clusterGroupId, gatewayGroupId: this.gatewayGroupId });
  }
}
