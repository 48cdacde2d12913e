import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { instanceTypeWarning } from "../lib/drift";
import { NodePlan } from "../lib/plan";

export interface NodeGroupArgs {
  nodes: NodePlan[];
  /** Subnet id per subnet index of the plan. */
  subnetIds: pulumi.Input<string>[];
  /** Security groups of every node, and those added to nodes that run the gateway. */
  securityGroupIds: pulumi.Input<string>[];
  gatewaySecurityGroupIds: pulumi.Input<string>[];
  /** The AMI of every node of the group (one instance type, so one architecture). */
  ami: pulumi.Input<string>;
  keyName: pulumi.Input<string>;
  instanceProfileName: pulumi.Input<string>;
  userData: string;
  /** Tags that describe what user data installed: like user data, kept as the instance was created. */
  softwareTags: Record<string, string>;
  clusterName: string;
  tags: Record<string, string>;
  /**
   * What makes a node reachable: the security-group rules (SSH, swarm ports) and the routes. Every
   * instance depends on them, so the engine creates them first (user data can reach the package
   * mirrors at first boot) and deletes them last: every remote command depends on an instance, so
   * on `pulumi destroy` each delete step still gets through before its SSH rule is revoked.
   */
  reachableThrough: pulumi.Resource[];
  /** CloudWatch metrics every minute instead of every five (billed per metric). @default false */
  detailedMonitoring?: boolean;
}

/** A planned node and the instance made for it: kept together so nothing matches them up by position. */
export interface NodeInstance {
  plan: NodePlan;
  instance: aws.ec2.Instance;
  /**
   * The address to dial: the Elastic IP's where the plan gives the node one (and only once it is
   * associated), else the instance's auto-assigned one.
   */
  publicIp: pulumi.Output<string>;
}

/** The EC2 instances of one node group: the managers, or one worker pool. */
export class NodeGroup extends pulumi.ComponentResource {
  /** In the order of `args.nodes`. */
  public readonly nodes: NodeInstance[];

  constructor(name: string, args: NodeGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:nodes:NodeGroup", name, {}, opts);

    this.nodes = args.nodes.map((plan) => {
      const instance = this.instance(name, plan, args);
      const address = plan.elasticIp ? this.elasticIp(name, plan, instance, args) : undefined;
      return { plan, instance, publicIp: address ? address.publicIp : instance.publicIp };
    });
    for (const { plan, instance } of this.nodes) {
      // The type is ignored on existing nodes (see below): say so, with the way to roll them.
      pulumi.all([instance.instanceType, instance.id]).apply(([actual, instanceId]) => {
        const warning = instanceTypeWarning({
          nodeKey: plan.key,
          role: plan.role,
          actual,
          configured: plan.instanceType,
          instanceId,
        });
        if (warning) pulumi.log.warn(warning, instance);
      });
    }

    this.registerOutputs({ instanceIds: this.nodes.map((node) => node.instance.id) });
  }

  /**
   * The node's Elastic IP, associated with its instance. It outlives the instance: a replaced
   * instance gets the same address (EC2 moves it in place: `instance` is no ForceNew argument), so
   * the outputs and every command stored in state keep dialing the right node.
   */
  private elasticIp(name: string, node: NodePlan, instance: aws.ec2.Instance, args: NodeGroupArgs): aws.ec2.Eip {
    return new aws.ec2.Eip(
      `${name}-${node.index}-eip`,
      { domain: "vpc", instance: instance.id, tags: { ...args.tags, Name: `${args.clusterName}-${node.key}` } },
      { parent: this },
    );
  }

  private instance(name: string, node: NodePlan, args: NodeGroupArgs): aws.ec2.Instance {
    return new aws.ec2.Instance(
      `${name}-${node.index}`,
      {
        ami: args.ami,
        instanceType: node.instanceType,
        subnetId: args.subnetIds[node.subnetIndex],
        vpcSecurityGroupIds: node.runsGateway
          ? [...args.securityGroupIds, ...args.gatewaySecurityGroupIds]
          : args.securityGroupIds,
        keyName: args.keyName,
        iamInstanceProfile: args.instanceProfileName,
        userData: args.userData,
        // IMDSv2 only; one hop keeps containers away from the node's role credentials.
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        // Changed in place by EC2 (Monitor/UnmonitorInstances): no stop, no replacement.
        monitoring: args.detailedMonitoring ?? false,
        rootBlockDevice: {
          volumeType: "gp3",
          volumeSize: node.volumeSize,
          encrypted: true,
          deleteOnTermination: true,
        },
        tags: {
          ...args.tags,
          ...args.softwareTags,
          Name: `${args.clusterName}-${node.key}`,
          role: node.role,
          pool: node.pool,
        },
      },
      {
        parent: this,
        // Created after, and deleted before, what makes the node reachable (see NodeGroupArgs).
        dependsOn: args.reachableThrough,
        // User data runs only at first boot, and the AMI lookup follows Canonical's releases:
        // neither may silently replace a live swarm node. A new instance type would stop and
        // start every node of the group at once (lib/drift.ts). A new key pair is rolled onto
        // running nodes by a command (SwarmCluster's ready step). New nodes pick all four up; a
        // `--replace`d one keeps the recorded values (the engine applies ignoreChanges to it too).
        // The software tags follow user data: they say what this instance really runs.
        ignoreChanges: [
          "ami",
          "userData",
          "instanceType",
          "keyName",
          ...Object.keys(args.softwareTags).map((key) => `tags[${JSON.stringify(key)}]`),
        ],
      },
    );
  }
}
