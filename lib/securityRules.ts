/**
 * The cluster's network policy as data. Swarm ports are open only between members of the cluster
 * security group, SSH only from the admin CIDRs, and the gateway port on the nodes that run the
 * gateway only from the load balancer's security group — or, without a load balancer, from the
 * gateway's public CIDRs. The public CIDRs then reach the load balancer's listeners instead.
 * Tests read this table; the component renders it 1:1.
 */

export type RuleGroup = "cluster" | "gateway" | "loadBalancer";

export interface SecurityRule {
  /** Stable, unique within the cluster: part of the resource name. */
  key: string;
  group: RuleGroup;
  direction: "ingress" | "egress";
  /** "tcp", "udp", "-1" (all) or an IP protocol number such as "50" (ESP). */
  protocol: string;
  fromPort?: number;
  toPort?: number;
  /** A CIDR, or one of the cluster's security groups (for egress: the destination). */
  source: { cidr: string } | { group: RuleGroup };
  description: string;
}

export const SWARM_MANAGEMENT_PORT = 2377;
export const SWARM_GOSSIP_PORT = 7946;
export const SWARM_VXLAN_PORT = 4789;
export const SSH_PORT = 22;
const ESP_PROTOCOL = "50";

export interface SecurityPolicyInput {
  adminCidrs: string[];
  encryptOverlay: boolean;
  gatewayPort: number;
  gatewayCidrs: string[];
  /** The load balancer's listener ports; absent without a load balancer. */
  loadBalancerPorts?: number[];
}

function fromCluster(key: string, protocol: string, port: number | undefined, description: string): SecurityRule {
  return {
    key,
    group: "cluster",
    direction: "ingress",
    protocol,
    fromPort: port,
    toPort: port,
    source: { group: "cluster" },
    description,
  };
}

export function planSecurityRules(input: SecurityPolicyInput): SecurityRule[] {
  const rules: SecurityRule[] = [
    fromCluster(
      "swarm-management",
      "tcp",
      SWARM_MANAGEMENT_PORT,
      "Swarm cluster management and raft (2377/tcp) between nodes",
    ),
    fromCluster("swarm-gossip-tcp", "tcp", SWARM_GOSSIP_PORT, "Swarm node gossip (7946/tcp) between nodes"),
    fromCluster("swarm-gossip-udp", "udp", SWARM_GOSSIP_PORT, "Swarm node gossip (7946/udp) between nodes"),
    fromCluster(
      "swarm-vxlan",
      "udp",
      SWARM_VXLAN_PORT,
      "Swarm overlay network data path, VXLAN (4789/udp) between nodes",
    ),
  ];
  if (input.encryptOverlay) {
    rules.push(
      fromCluster("swarm-esp", ESP_PROTOCOL, undefined, "IPsec ESP (IP protocol 50) for encrypted overlay networks"),
    );
  }
  input.adminCidrs.forEach((cidr, index) =>
    rules.push({
      key: `ssh-${index}`,
      group: "cluster",
      direction: "ingress",
      protocol: "tcp",
      fromPort: SSH_PORT,
      toPort: SSH_PORT,
      source: { cidr },
      description: `SSH from admin network ${cidr}`,
    }),
  );
  rules.push(...(input.loadBalancerPorts ? frontDoorRules(input, input.loadBalancerPorts) : directGatewayRules(input)));
  rules.push({
    key: "egress-all",
    group: "cluster",
    direction: "egress",
    protocol: "-1",
    source: { cidr: "0.0.0.0/0" },
    description: "All outbound traffic: package installs, image pulls, AWS APIs",
  });
  return rules;
}

/** Without a load balancer: the gateway port on the gateway nodes, from each public CIDR. */
function directGatewayRules(input: SecurityPolicyInput): SecurityRule[] {
  return input.gatewayCidrs.map((cidr, index) => ({
    key: `gateway-${index}`,
    group: "gateway",
    direction: "ingress",
    protocol: "tcp",
    fromPort: input.gatewayPort,
    toPort: input.gatewayPort,
    source: { cidr },
    description: `Gateway port ${input.gatewayPort}/tcp from ${cidr}`,
  }));
}

/**
 * With a load balancer: its listeners from each public CIDR; from it, traffic and health checks to
 * the gateway port; on the gateway nodes, that port from the load balancer only. A Network Load
 * Balancer with security groups is referenced by them in its targets' rules (ELB user guide,
 * "Update the security groups for your Network Load Balancer").
 */
function frontDoorRules(input: SecurityPolicyInput, ports: number[]): SecurityRule[] {
  const port = input.gatewayPort;
  return [
    ...ports.flatMap((listener) =>
      input.gatewayCidrs.map((cidr, index): SecurityRule => ({
        key: `lb-${listener}-${index}`,
        group: "loadBalancer",
        direction: "ingress",
        protocol: "tcp",
        fromPort: listener,
        toPort: listener,
        source: { cidr },
        description: `Load balancer listener ${listener}/tcp from ${cidr}`,
      })),
    ),
    {
      key: "lb-to-gateway",
      group: "loadBalancer",
      direction: "egress",
      protocol: "tcp",
      fromPort: port,
      toPort: port,
      source: { group: "gateway" },
      description: `Load balancer to the gateway nodes' port ${port}/tcp: traffic and health checks`,
    },
    {
      key: "gateway-from-lb",
      group: "gateway",
      direction: "ingress",
      protocol: "tcp",
      fromPort: port,
      toPort: port,
      source: { group: "loadBalancer" },
      description: `Gateway port ${port}/tcp from the load balancer only`,
    },
  ];
}
