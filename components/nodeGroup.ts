import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { GATEWAY_LABEL, NodePlan } from "../lib/plan";

export interface NodeGroupArgs {
  nodes: NodePlan[];
  /** Subnet id per subnet index of the plan. */
  subnetIds: pulumi.Input<string>[];
  /** Security groups of every node, and those added to nodes that run the gateway. */
  securityGroupIds: pulumi.Input<string>[];
  gatewaySecurityGroupIds: pulumi.Input<string>[];
  /** AMI per CPU architecture (`x86_64`, `arm64`). */
  amiFor: (instanceType: string) => pulumi.Input<string>;
  keyName: pulumi.Input<string>;
  instanceProfileName: pulumi.Input<string>;
  userData: string;
  clusterName: string;
  tags: Record<string, string>;
}

/** The EC2 instances of one node group: the managers, or one worker pool. */
export class NodeGroup extends pulumi.ComponentResource {
  public readonly instances: aws.ec2.Instance[];

  constructor(name: string, args: NodeGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:nodes:NodeGroup", name, {}, opts);

    this.instances = args.nodes.map((node) => {
      const runsGateway = node.labels[GATEWAY_LABEL] === "true";
      return new aws.ec2.Instance(
        `${name}-${node.index}`,
        {
          ami: args.amiFor(node.instanceType),
          instanceType: node.instanceType,
          subnetId: args.subnetIds[node.subnetIndex],
          vpcSecurityGroupIds: runsGateway
            ? [...args.securityGroupIds, ...args.gatewaySecurityGroupIds]
            : args.securityGroupIds,
          keyName: args.keyName,
          iamInstanceProfile: args.instanceProfileName,
          userData: args.userData,
          // IMDSv2 only; one hop keeps containers away from the node's role credentials.
          metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
          rootBlockDevice: {
            volumeType: "gp3",
            volumeSize: node.volumeSize,
            encrypted: true,
            deleteOnTermination: true,
          },
          tags: {
            ...args.tags,
            Name: `${args.clusterName}-${node.key}`,
            role: node.role,
            pool: node.pool,
          },
        },
        {
          parent: this,
          // User data runs only at first boot, and the AMI lookup follows Canonical's releases:
          // neither may silently replace a live swarm node (replacing the first manager would
          // re-create the swarm). New and explicitly replaced nodes pick both up; see README.
          ignoreChanges: ["ami", "userData"],
        },
      );
    });

    this.registerOutputs({ instanceIds: this.instances.map((instance) => instance.id) });
  }
}

/** Canonical's publisher account for official Ubuntu AMIs. */
export const CANONICAL_OWNER_ID = "099720109477";

/** Latest Ubuntu 24.04 LTS AMI for the architecture, from Canonical's own account only. */
export function ubuntuAmi(architecture: "x86_64" | "arm64", opts?: pulumi.InvokeOptions): pulumi.Output<string> {
  const arch = architecture === "arm64" ? "arm64" : "amd64";
  return aws.ec2
    .getAmiOutput(
      {
        mostRecent: true,
        owners: [CANONICAL_OWNER_ID],
        filters: [
          { name: "name", values: [`ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${arch}-server-*`] },
          { name: "virtualization-type", values: ["hvm"] },
          { name: "architecture", values: [architecture] },
        ],
      },
      opts,
    )
    .apply((ami) => ami.id);
}
