/**
 * The whole cluster as data, decided before any resource exists: which AZs and subnets, which
 * nodes in which groups (role, pool, subnet, labels, gateway, architecture), the network policy,
 * the nodes' first-boot script and the platform images are built for. The components only render
 * this plan, so the dev and prod stacks can be read and tested as plain values.
 */
import { Architecture, architectureOf, NodePlan, planNodes, planSubnets, SubnetPlan } from "./plan";
import { renderScript } from "./scripts";
import { planSecurityRules, SecurityRule } from "./securityRules";
import { ClusterConfig } from "./types";

/**
 * Docker Engine major version for the nodes: pinned, so that a node joining months later runs the
 * same engine as the swarm it joins; minor and patch releases still come from Docker's apt repo.
 */
const DOCKER_VERSION = "28";

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
  /** First-boot script of every node; it holds no secret. */
  userData: string;
  /** What the stack's images are built for. */
  imagePlatform: ImagePlatform;
  /** Choices that work, but probably not the way the user meant; for `pulumi.log.warn`. */
  warnings: string[];
}

export function planCluster(config: ClusterConfig, zoneNames: string[]): ClusterPlan {
  const subnets = planSubnets(config.vpcCidr, chooseZones(config.availabilityZones, zoneNames));
  const nodes = planNodes(config, subnets);
  const architectures = new Set(nodes.map((node) => node.architecture));
  return {
    tags: { cluster: config.clusterName, "managed-by": "aws-swarm" },
    subnets,
    groups: [config.managers, ...config.workerPools].map((group) => ({
      name: group.name,
      architecture: architectureOf(group.instanceType),
      nodes: nodes.filter((node) => node.pool === group.name),
    })),
    securityRules: planSecurityRules({
      adminCidrs: config.adminCidrs,
      encryptOverlay: config.swarm.encryptOverlay,
      gatewayPort: config.gateway.port,
      gatewayCidrs: config.gateway.publicCidrs,
    }),
    userData: renderScript("user-data", { DOCKER_VERSION, SSH_USER: config.sshUser, LOG_MAX_SIZE, LOG_MAX_FILE }),
    // Images are built for one platform only: with a mix, x86_64 wins and the warning says so.
    imagePlatform: architectures.has("x86_64") ? "linux/amd64" : "linux/arm64",
    warnings:
      architectures.size > 1 && config.images.length > 0
        ? ["nodes mix x86_64 and arm64: images are built for linux/amd64 only"]
        : [],
  };
}

/**
 * The first `count` of the region's zones. The zone count is only known once the region is asked,
 * so this is the one config check that cannot run in `parseConfig`.
 */
function chooseZones(count: number, zoneNames: string[]): string[] {
  if (zoneNames.length < count) {
    throw new Error(
      `aws-swarm:availabilityZones is ${count}, but the region offers only ` +
        `${zoneNames.length} (${zoneNames.join(", ")})`,
    );
  }
  return zoneNames.slice(0, count);
}
