import * as pulumi from "@pulumi/pulumi";
import { DownNode } from "../lib/nodeHealth";
import { ClusterConfig } from "../lib/types";
import { LoadBalancer } from "./loadBalancer";
import { NodeAccess } from "./nodeAccess";
import { NodeInstance } from "./nodeGroup";
import { StackDeployment } from "./stackDeployment";
import { SwarmCluster } from "./swarmCluster";

export interface ClusterParts {
  config: ClusterConfig;
  vpcId: pulumi.Output<string>;
  access: NodeAccess;
  nodes: NodeInstance[];
  swarm: SwarmCluster;
  stack: StackDeployment;
  /** Absent with `gateway.loadBalancer: false`. */
  frontDoor?: LoadBalancer;
}

/** A Down node in `stackStatus.down`. */
function downEntry(node: DownNode) {
  return {
    node: node.nodeKey ?? node.id,
    nodeId: node.id,
    instanceId: node.instanceId,
    hostname: node.hostname,
    downForSeconds: node.seconds,
  };
}

/** The stack outputs (README "Outputs"); secrets stay secret because their sources are. */
export function clusterOutputs({ config, vpcId, access, nodes, swarm, stack, frontDoor }: ClusterParts) {
  const name = config.clusterName;
  const ipsOf = (pool: string) => {
    const group = nodes.filter((node) => node.plan.pool === pool);
    return { public: group.map((n) => n.publicIp), private: group.map((n) => n.instance.privateIp) };
  };
  const managers = ipsOf(config.managers.name);
  const firstManagerIp = nodes[0].publicIp;
  return {
    // The one address for clients: the load balancer's, or without one the first gateway node's.
    url: frontDoor ? frontDoor.url : stack.gatewayUrls.apply((urls) => urls[0]),
    // Only without a load balancer: the gateway nodes then take clients themselves.
    gatewayUrls: frontDoor ? undefined : stack.gatewayUrls,
    // Each stack's deploy summary (services → running/desired), the gateway's first, and the
    // nodes Down too long.
    stackStatus: pulumi.all([stack.deployStatus, swarm.downNodes]).apply(([deploys, down]) => ({
      stacks: Object.fromEntries(
        deploys.map((line) => JSON.parse(line)).map(({ stack, ...status }) => [stack, status]),
      ),
      down: down.map(downEntry),
    })),
    vpcId,
    managerPublicIps: managers.public,
    managerPrivateIps: managers.private,
    workerIps: Object.fromEntries(config.workerPools.map((pool) => [pool.name, ipsOf(pool.name)])),
    // With a generated key: `pulumi stack output --show-secrets sshPrivateKey > ~/.ssh/<cluster>.pem`.
    ssh: pulumi.interpolate`ssh ${access.keyGenerated ? `-i ~/.ssh/${name}.pem ` : ""}${config.sshUser}@${firstManagerIp}`,
    dockerHost: pulumi.interpolate`DOCKER_HOST=ssh://${config.sshUser}@${firstManagerIp}`,
    sshPrivateKey: access.keyGenerated ? access.privateKey : undefined,
    swarmId: swarm.swarmId,
    nodeIds: swarm.nodeIds,
    swarmUnlockKey: swarm.unlockKey,
  };
}
