import { formatCidr, parseCidr, subnetOf } from "./cidr";
import { ClusterConfig, NodeGroupConfig, NodeRole } from "./types";

/**
 * Subnets are the VPC split in sixteen: room for the six AZs a region can offer and for private
 * subnets later, each still ≥ /28 even for the smallest VPC the config allows (/24).
 */
const SUBNET_PREFIX_STEP = 4;

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
    cidr: formatCidr(subnetOf(vpc, vpc.prefix + SUBNET_PREFIX_STEP, index)),
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
      const subnet = subnets[index % subnets.length];
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
        labels,
      };
    }),
  );
}
