import { formatCidr, parseCidr, subnetOf } from "./cidr";
import { ClusterConfig, NodeGroupConfig, NodeRole } from "./types";

/**
 * Subnets are the VPC split in sixteen: room for the six AZs a region can offer and for private
 * subnets later, each still ≥ /28 even for the smallest VPC the config allows (/24).
 */
const SUBNET_PREFIX_STEP = 4;
/** Addresses AWS keeps in every subnet: network, router, DNS, future use and broadcast. */
const AWS_RESERVED_ADDRESSES = 5;

/** The prefix of every subnet carved from a VPC of prefix `vpcPrefix`. */
export function subnetPrefix(vpcPrefix: number): number {
  return vpcPrefix + SUBNET_PREFIX_STEP;
}

/** Addresses a subnet of `prefix` has for instances. */
export function usableAddresses(prefix: number): number {
  return 2 ** (32 - prefix) - AWS_RESERVED_ADDRESSES;
}

/** The zone (subnet index) of a group's `index`-th node: each group goes round-robin on its own. */
function zoneOf(index: number, zoneCount: number): number {
  return index % zoneCount;
}

/** How many nodes the busiest zone gets from groups of these sizes (each spread by `zoneOf`). */
export function nodesInBusiestZone(groupCounts: readonly number[], zoneCount: number): number {
  const perZone = new Array<number>(zoneCount).fill(0);
  for (const count of groupCounts) {
    for (let index = 0; index < count; index++) {
      perZone[zoneOf(index, zoneCount)]++;
    }
  }
  return Math.max(0, ...perZone);
}

export interface SubnetPlan {
  index: number;
  az: string;
  cidr: string;
}

export function planSubnets(vpcCidr: string, azNames: string[]): SubnetPlan[] {
  const vpc = parseCidr(vpcCidr);
  if (!vpc) {
    throw new Error(`vpcCidr "${vpcCidr}" is not a valid IPv4 CIDR`);
  }
  return azNames.map((az, index) => ({
    index,
    az,
    cidr: formatCidr(subnetOf(vpc, subnetPrefix(vpc.prefix), index)),
  }));
}

/** CPU architecture as EC2 and the Ubuntu AMIs name it. */
export type Architecture = "arm64" | "x86_64";

export interface NodePlan {
  /** Stable identity used in resource names: `manager-0`, `app-1`. */
  key: string;
  role: NodeRole;
  pool: string;
  index: number;
  /** Index into the subnet plan. */
  subnetIndex: number;
  az: string;
  instanceType: string;
  volumeSize: number;
  architecture: Architecture;
  /** The node runs the stack's gateway: it gets the gateway security group and `GATEWAY_LABEL`. */
  runsGateway: boolean;
  /**
   * The node gets an Elastic IP: managers (every swarm-wide step and the `ssh`/`dockerHost` outputs
   * dial them) and, without the load balancer, gateway nodes (clients dial them). An auto-assigned public address changes on
   * every stop and start; a command stored in state would then dial a dead or foreign address.
   */
  elasticIp: boolean;
  /** Every node label the product applies: the pool's own plus the automatic ones. */
  labels: Record<string, string>;
}

/** The label the stack's gateway service is placed by. */
export const GATEWAY_LABEL = "aws-swarm.gateway";

/**
 * All nodes in creation order: managers first, then pools in config order. Each group is spread
 * round-robin over the AZs on its own, so three managers land in three AZs and every pool is
 * balanced whatever the sizes of the groups before it.
 */
/** `architectures`: by instance type (lib/region.ts). */
export function planNodes(
  config: ClusterConfig,
  subnets: SubnetPlan[],
  architectures: Record<string, Architecture>,
): NodePlan[] {
  const groups: Array<{ role: NodeRole; group: NodeGroupConfig }> = [
    { role: "manager", group: config.managers },
    ...config.workerPools.map((group) => ({ role: "worker" as const, group })),
  ];
  const gatewayPool = config.gateway.placement === "managers" ? "manager" : config.gateway.placement;
  return groups.flatMap(({ role, group }) =>
    Array.from({ length: group.count }, (_, index) => {
      const subnet = subnets[zoneOf(index, subnets.length)];
      const runsGateway = group.name === gatewayPool;
      const labels: Record<string, string> = {
        ...group.labels,
        pool: group.name,
        role,
        az: subnet.az,
        "instance-type": group.instanceType,
      };
      if (runsGateway) {
        labels[GATEWAY_LABEL] = "true";
      }
      return {
        key: `${group.name}-${index}`,
        role,
        pool: group.name,
        index,
        subnetIndex: subnet.index,
        az: subnet.az,
        instanceType: group.instanceType,
        volumeSize: group.volumeSize,
        architecture: architectures[group.instanceType],
        runsGateway,
        // Clients dial a gateway node itself only without the load balancer.
        elasticIp: role === "manager" || (runsGateway && !config.gateway.loadBalancer),
        labels,
      };
    }),
  );
}
