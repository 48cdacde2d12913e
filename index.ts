import * as pulumi from "@pulumi/pulumi";
import { NodeAmis } from "./components/ami";
import { ImageRepositories } from "./components/imageRepositories";
import { LoadBalancer } from "./components/loadBalancer";
import { Network } from "./components/network";
import { NodeAccess } from "./components/nodeAccess";
import { NodeGroup } from "./components/nodeGroup";
import { clusterOutputs } from "./components/outputs";
import { SecurityGroups } from "./components/securityGroups";
import { StackDeployment } from "./components/stackDeployment";
import { regionFacts } from "./components/region";
import { SwarmCluster } from "./components/swarmCluster";
import { planCluster } from "./lib/clusterPlan";
import { loadConfig } from "./lib/config";
import { instanceTypesOf } from "./lib/region";

export = async () => {
  const { config, sshPrivateKey } = loadConfig();
  const name = config.clusterName;
  const plan = planCluster(config, await regionFacts(instanceTypesOf(config)));
  plan.notes.forEach((note) => pulumi.log.info(note));
  plan.warnings.forEach((warning) => pulumi.log.warn(warning));

  const network = new Network(name, { cidr: config.vpcCidr, subnets: plan.subnets, tags: plan.tags });
  const security = new SecurityGroups(name, { vpcId: network.vpcId, rules: plan.securityRules, tags: plan.tags });
  const sshKey =
    config.sshPublicKey && sshPrivateKey ? { publicKey: config.sshPublicKey, privateKey: sshPrivateKey } : undefined;
  const access = new NodeAccess(name, { sshKey, tags: plan.tags });
  const amis = new NodeAmis(config.ami);
  // The plan lists the managers first; any of them may create the swarm (SwarmCluster).
  const nodes = plan.groups.flatMap(
    (group) =>
      new NodeGroup(`${name}-${group.name}`, {
        nodes: group.nodes,
        subnetIds: network.subnetIds,
        securityGroupIds: [security.clusterGroupId],
        gatewaySecurityGroupIds: [security.gatewayGroupId],
        ami: amis.of(group.architecture),
        keyName: access.keyName,
        instanceProfileName: access.instanceProfileName,
        userData: plan.userData,
        softwareTags: plan.softwareTags,
        clusterName: name,
        tags: plan.tags,
        reachableThrough: [network, ...security.rules],
        detailedMonitoring: config.detailedMonitoring,
      }).nodes,
  );
  const swarm = new SwarmCluster(name, {
    clusterName: name,
    nodes,
    sshUser: config.sshUser,
    privateKey: access.privateKey,
    publicKey: access.publicKey,
    settings: config.swarm,
  });
  const gatewayNodes = nodes.filter((node) => node.plan.runsGateway);
  const frontDoor =
    plan.loadBalancer &&
    new LoadBalancer(name, {
      plan: plan.loadBalancer,
      clusterName: name,
      vpcId: network.vpcId,
      subnetIds: network.subnetIds,
      securityGroupId: security.loadBalancerGroupId!,
      targets: gatewayNodes,
      registerAfter: swarm.members,
      tags: plan.tags,
    });
  const images = new ImageRepositories(name, {
    images: config.images,
    projectRoot: __dirname,
    repositoryPrefix: name,
    platform: plan.imagePlatform,
    tags: plan.tags,
  });
  const stack = new StackDeployment(name, {
    control: swarm.control,
    swarm: swarm.swarm,
    managers: swarm.managers,
    config,
    projectRoot: __dirname,
    imageVariables: images.imageVariables,
    gatewayAddresses: gatewayNodes.map((node) => node.publicIp),
    registryUrl: config.images.length > 0 ? images.registryUrl : undefined,
    after: swarm.members,
  });

  return clusterOutputs({ config, vpcId: network.vpcId, access, nodes, swarm, stack, frontDoor });
};
