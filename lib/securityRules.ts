/**
 * The cluster's network policy as data. Swarm ports are open only between members of the cluster
 * security group, SSH only from the admin CIDRs, and the gateway port only from its public CIDRs
 * on the nodes that run the gateway. Tests read this table; the component renders it 1:1.
 */

export type RuleGroup = "cluster" | "gateway";

export interface SecurityRule {
  /** Stable, unique within the cluster: part of the resource name. */
  key: string;
  group: RuleGroup;
  direction: "ingress" | "egress";
  /** "tcp", "udp", "-1" (all) or an IP protocol number such as "50" (ESP). */
  protocol: string;
  fromPort?: number;
  toPort?: number;
  /** Either a CIDR or the cluster security group itself. */
  source: { cidr: string } | { clusterGroup: true };
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
}

function fromCluster(key: string, protocol: string, port: number | undefined, description: string): SecurityRule {
  return {
    key,
    group: "cluster",
    direction: "ingress",
    protocol,
    fromPort: port,
    toPort: port,
    source: { clusterGroup: true },
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
  input.gatewayCidrs.forEach((cidr, index) =>
    rules.push({
      key: `gateway-${index}`,
      group: "gateway",
      direction: "ingress",
      protocol: "tcp",
      fromPort: input.gatewayPort,
      toPort: input.gatewayPort,
      source: { cidr },
      description: `Gateway port ${input.gatewayPort}/tcp from ${cidr}`,
    }),
  );
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
