/**
 * The whole cluster as data, decided before any resource exists: which AZs and subnets, which
 * nodes in which groups (role, pool, subnet, labels, gateway, architecture), the network policy,
 * the nodes' first-boot script and the platform images are built for. The components only render
 * this plan, so the dev and prod stacks can be read and tested as plain values.
 */
import { unresolvedRouteWarnings } from "./configStacks";
import { Architecture, NodePlan, planNodes, planSubnets, SubnetPlan } from "./plan";
import { architecturesOf, checkArchitectureMix, chooseZones, pinZonesHint, RegionFacts } from "./region";
import { renderScript } from "./scripts";
import { LoadBalancerPlan, planLoadBalancer } from "./loadBalancer";
import { planSecurityRules, SecurityRule } from "./securityRules";
import { ClusterConfig } from "./types";

/**
 * Docker Engine and containerd on the nodes, exact versions from Docker's apt repository (noble,
 * amd64 and arm64; current stable when pinned): a node that joins months later runs the very engine
 * of the swarm it joins. Recorded on each instance as tags (NodeGroup); how to move a cluster to
 * newer versions: README, "Upgrade Docker".
 */
export const NODE_SOFTWARE = { "docker-version": "29.8.1", "containerd-version": "2.3.6" } as const;

/** Container log rotation per container: json-file logs otherwise grow until the root volume is full. */
const LOG_MAX_SIZE = "10m";
const LOG_MAX_FILE = "3";

export type ImagePlatform = "linux/amd64" | "linux/arm64";

export interface NodeGroupPlan {
  /** `manager`, or the worker pool's name: part of every resource name of the group. */
  name: string;
  /** One instance type per group, so one architecture and one AMI. */
  architecture: Architecture;
  /** In index order; empty for a worker pool of count 0. */
  nodes: NodePlan[];
}

export interface ClusterPlan {
  /** Tags on every AWS resource of the cluster. */
  tags: Record<string, string>;
  subnets: SubnetPlan[];
  /** The managers first, then the worker pools in config order: the order nodes join in. */
  groups: NodeGroupPlan[];
  securityRules: SecurityRule[];
  /** The front door; undefined with `gateway.loadBalancer: false`. */
  loadBalancer?: LoadBalancerPlan;
  /** First-boot script of every node; it holds no secret. */
  userData: string;
  /** Instance tags naming the software user data installs: kept as created, like user data. */
  softwareTags: Record<string, string>;
  /** What the stack's images are built for. */
  imagePlatform: ImagePlatform;
  /** What the program chose by itself and how to fix the choice; for `pulumi.log.info`. */
  notes: string[];
  /** What works but is likely not meant (a route to no stack's service); for `pulumi.log.warn`. */
  warnings: string[];
}

/** The plan, or an error naming the config key, before any resource is created. */
export function planCluster(config: ClusterConfig, region: RegionFacts): ClusterPlan {
  const zones = chooseZones(config, region);
  const byType = architecturesOf(config, region);
  checkArchitectureMix(config, byType);
  const subnets = planSubnets(
    config.vpcCidr,
    zones.map((zone) => zone.name),
  );
  const nodes = planNodes(config, subnets, byType);
  const architectures = new Set(nodes.map((node) => node.architecture));
  const loadBalancer = planLoadBalancer(config.gateway);
  return {
    tags: { cluster: config.clusterName, "managed-by": "aws-swarm" },
    subnets,
    groups: [config.managers, ...config.workerPools].map((group) => ({
      name: group.name,
      architecture: byType[group.instanceType],
      nodes: nodes.filter((node) => node.pool === group.name),
    })),
    securityRules: planSecurityRules({
      adminCidrs: config.adminCidrs,
      encryptOverlay: config.swarm.encryptOverlay,
      gatewayPort: config.gateway.port,
      gatewayCidrs: config.gateway.publicCidrs,
      loadBalancerPorts: loadBalancer?.listeners.map((listener) => listener.port),
    }),
    ...(loadBalancer && { loadBalancer }),
    userData: renderScript("user-data", {
      DOCKER_VERSION: NODE_SOFTWARE["docker-version"],
      CONTAINERD_VERSION: NODE_SOFTWARE["containerd-version"],
      SSH_USER: config.sshUser,
      LOG_MAX_SIZE,
      LOG_MAX_FILE,
    }),
    softwareTags: { ...NODE_SOFTWARE },
    // A mix with images was refused above; without nodes (all pools at 0) amd64 is as good as any.
    imagePlatform: architectures.has("arm64") && !architectures.has("x86_64") ? "linux/arm64" : "linux/amd64",
    notes: [pinZonesHint(config, zones), elasticIpQuotaNote(nodes)].filter(
      (note): note is string => note !== undefined,
    ),
    warnings: unresolvedRouteWarnings(config.gateway.routes, config.stacks),
  };
}

/** AWS's default quota of Elastic IPs per region and account (VPC service quotas, L-0263D0A3). */
export const DEFAULT_ELASTIC_IP_QUOTA = 5;

/** Said when the cluster needs more Elastic IPs than the default quota allows. */
export function elasticIpQuotaNote(nodes: NodePlan[]): string | undefined {
  const count = nodes.filter((node) => node.elasticIp).length;
  if (count <= DEFAULT_ELASTIC_IP_QUOTA) return undefined;
  return (
    `this cluster uses ${count} Elastic IPs (managers and gateway nodes), more than AWS's default quota of ` +
    `${DEFAULT_ELASTIC_IP_QUOTA} per region: check yours with aws service-quotas get-service-quota ` +
    "--service-code ec2 --quota-code L-0263D0A3, and ask for more before pulumi up if needed"
  );
}
