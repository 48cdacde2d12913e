import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ImageRepositories } from "./components/imageRepositories";
import { Network } from "./components/network";
import { NodeAccess } from "./components/nodeAccess";
import { NodeGroup, ubuntuAmi } from "./components/nodeGroup";
import { SecurityGroups } from "./components/securityGroups";
import { StackDeployment } from "./components/stackDeployment";
import { SwarmCluster, SwarmNode } from "./components/swarmCluster";
import { loadConfig } from "./lib/config";
import { architectureOf, GATEWAY_LABEL, planNodes, planSubnets } from "./lib/plan";
import { renderScript } from "./lib/scripts";
import { planSecurityRules } from "./lib/securityRules";

/**
 * Docker Engine major version for the nodes: pinned, so that a node joining months later runs the
 * same engine as the swarm it joins; minor and patch releases still come from Docker's apt repo.
 */
const DOCKER_VERSION = "28";

export = async () => {
  const { config, sshPrivateKey } = loadConfig();
  const name = config.clusterName;
  const tags = { cluster: name, "managed-by": "aws-swarm" };

  const zones = await aws.getAvailabilityZones({ state: "available" });
  if (zones.names.length < config.availabilityZones) {
    throw new Error(
      `aws-swarm:availabilityZones is ${config.availabilityZones}, but the region offers only ` +
        `${zones.names.length} (${zones.names.join(", ")})`,
    );
  }
  const subnets = planSubnets(config.vpcCidr, zones.names.slice(0, config.availabilityZones));
  const nodes = planNodes(config, subnets);

  const network = new Network(name, { cidr: config.vpcCidr, subnets, tags });
  const security = new SecurityGroups(name, {
    vpcId: network.vpcId,
    rules: planSecurityRules({
      adminCidrs: config.adminCidrs,
      encryptOverlay: config.swarm.encryptOverlay,
      gatewayPort: config.gateway.port,
      gatewayCidrs: config.gateway.publicCidrs,
    }),
    tags,
  });
  const sshKey =
    config.sshPublicKey && sshPrivateKey ? { publicKey: config.sshPublicKey, privateKey: sshPrivateKey } : undefined;
  const access = new NodeAccess(name, { sshKey, tags });

  const amis = new Map<string, pulumi.Output<string>>();
  const amiFor = (instanceType: string) => {
    const arch = architectureOf(instanceType);
    if (config.ami) {
      return pulumi.output(config.ami);
    }
    if (!amis.has(arch)) {
      amis.set(arch, ubuntuAmi(arch));
    }
    return amis.get(arch)!;
  };
  const userData = renderScript("user-data", {
    DOCKER_VERSION,
    SSH_USER: config.sshUser,
    LOG_MAX_SIZE: "10m",
    LOG_MAX_FILE: "3",
  });
  const groups = [config.managers, ...config.workerPools].map(
    (group) =>
      new NodeGroup(`${name}-${group.name}`, {
        nodes: nodes.filter((node) => node.pool === group.name),
        subnetIds: network.subnetIds,
        securityGroupIds: [security.clusterGroupId],
        gatewaySecurityGroupIds: [security.gatewayGroupId],
        amiFor,
        keyName: access.keyName,
        instanceProfileName: access.instanceProfileName,
        userData,
        clusterName: name,
        tags,
      }),
  );
  const instances = groups.flatMap((group) => group.instances);
  const swarmNodes: SwarmNode[] = nodes.map((plan, index) => ({ plan, instance: instances[index] }));

  const swarm = new SwarmCluster(name, {
    clusterName: name,
    nodes: swarmNodes,
    sshUser: config.sshUser,
    privateKey: access.privateKey,
    settings: config.swarm,
  });

  const architectures = new Set(nodes.map((node) => architectureOf(node.instanceType)));
  if (architectures.size > 1 && config.images.length > 0) {
    pulumi.log.warn("nodes mix x86_64 and arm64: images are built for linux/amd64 only");
  }
  const images = new ImageRepositories(name, {
    images: config.images,
    projectRoot: __dirname,
    repositoryPrefix: name,
    platform: architectures.has("x86_64") ? "linux/amd64" : "linux/arm64",
    tags,
  });
  const gatewayNodes = swarmNodes.filter((node) => node.plan.labels[GATEWAY_LABEL] === "true");
  const stack = new StackDeployment(
    name,
    {
      connection: swarm.managerConnection,
      managerConnections: swarm.managerConnections,
      config,
      projectRoot: __dirname,
      imageVariables: images.imageVariables,
      gatewayAddresses: gatewayNodes.map((node) => node.instance.publicIp),
      registryUrl: config.images.length > 0 ? images.registryUrl : undefined,
    },
    { dependsOn: swarm.members },
  );

  const ipsOf = (pool: string, ip: "publicIp" | "privateIp") =>
    swarmNodes.filter((node) => node.plan.pool === pool).map((node) => node.instance[ip]);
  const firstManagerIp = instances[0].publicIp;
  return {
    gatewayUrls: stack.gatewayUrls,
    stackStatus: stack.deployStatus,
    vpcId: network.vpcId,
    managerPublicIps: ipsOf(config.managers.name, "publicIp"),
    managerPrivateIps: ipsOf(config.managers.name, "privateIp"),
    workerIps: Object.fromEntries(
      config.workerPools.map((pool) => [
        pool.name,
        { public: ipsOf(pool.name, "publicIp"), private: ipsOf(pool.name, "privateIp") },
      ]),
    ),
    // With a generated key: `pulumi stack output --show-secrets sshPrivateKey > ~/.ssh/<cluster>.pem`.
    ssh: pulumi.interpolate`ssh ${access.keyGenerated ? `-i ~/.ssh/${name}.pem ` : ""}${config.sshUser}@${firstManagerIp}`,
    dockerHost: pulumi.interpolate`DOCKER_HOST=ssh://${config.sshUser}@${firstManagerIp}`,
    sshPrivateKey: access.keyGenerated ? access.privateKey : undefined,
    swarmId: swarm.swarmId,
    nodeIds: swarm.nodeIds,
    swarmUnlockKey: swarm.unlockKey,
  };
};
