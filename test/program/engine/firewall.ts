/**
 * What the VPC lets in, per instance: the ingress rules of every security group the instance is
 * in, with a referenced security group turned into the private addresses of its member instances
 * (AWS matches such a rule on the source's primary private IP). Egress is open in this program
 * (`egress-all`), so only ingress becomes a packet filter.
 */
import { unwrapSecrets } from "../types";

export const INSTANCE = "aws:ec2/instance:Instance";
export const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
export const INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
export const LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer";

export interface FirewallRule {
  /** "tcp", "udp", "-1" (all) or an IP protocol number such as "50". */
  protocol: string;
  fromPort?: number;
  toPort?: number;
  sources: string[];
}

export interface FirewallInputs {
  type: string;
  outputs: Record<string, any>;
  machine?: string;
}

/**
 * Host name → its ingress rules, for every instance that has a machine.
 * @param loadBalancerIp the private address of the load balancer (its stand-in's), a member of the
 *   security groups the load balancer is in
 */
export function firewallRules(resources: FirewallInputs[], loadBalancerIp?: string): Map<string, FirewallRule[]> {
  const plain = resources.map((r) => ({ ...r, outputs: unwrapSecrets(r.outputs) }));
  const allInstances = plain.filter((r) => r.type === INSTANCE);
  const instances = allInstances.filter((r) => r.machine);
  const balancers = plain.filter((r) => r.type === LOAD_BALANCER && loadBalancerIp);
  const members = (groupId: string) => [
    ...allInstances
      .filter((i) => (i.outputs.vpcSecurityGroupIds ?? []).includes(groupId))
      .map((i) => `${i.outputs.privateIp}/32`),
    ...balancers.filter((b) => (b.outputs.securityGroups ?? []).includes(groupId)).map(() => `${loadBalancerIp}/32`),
  ];
  const rules = plain.filter((r) => r.type === INGRESS_RULE);
  const result = new Map<string, FirewallRule[]>();
  for (const instance of instances) {
    const groups: string[] = instance.outputs.vpcSecurityGroupIds ?? [];
    const own = rules
      .filter((rule) => groups.includes(rule.outputs.securityGroupId))
      .map((rule): FirewallRule => {
        const o = rule.outputs;
        const sources = o.referencedSecurityGroupId
          ? members(o.referencedSecurityGroupId)
          : o.cidrIpv4
            ? [o.cidrIpv4]
            : [];
        return { protocol: String(o.ipProtocol), fromPort: o.fromPort, toPort: o.toPort, sources: sources.sort() };
      });
    result.set(instance.machine!, own);
  }
  return result;
}
