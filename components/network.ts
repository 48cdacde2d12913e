import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SubnetPlan } from "../lib/plan";

export interface NetworkArgs {
  cidr: string;
  subnets: SubnetPlan[];
  tags: Record<string, string>;
}

/** A VPC with one public subnet per availability zone, routed to an internet gateway. */
export class Network extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly subnetIds: pulumi.Output<string>[];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aws-swarm:network:Network", name, {}, opts);

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: args.cidr,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: { ...args.tags, Name: `${name}-vpc` },
      },
      { parent: this },
    );
    const gateway = new aws.ec2.InternetGateway(
      `${name}-igw`,
      { vpcId: vpc.id, tags: { ...args.tags, Name: `${name}-igw` } },
      { parent: this },
    );
    const routeTable = new aws.ec2.RouteTable(
      `${name}-public`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }],
        tags: { ...args.tags, Name: `${name}-public` },
      },
      { parent: this },
    );
    this.subnetIds = args.subnets.map((plan) => {
      // The resource name is index-based so that a tag or AZ-name change never replaces a subnet.
      const subnet = new aws.ec2.Subnet(
        `${name}-public-${plan.index}`,
        {
          vpcId: vpc.id,
          cidrBlock: plan.cidr,
          availabilityZone: plan.az,
          mapPublicIpOnLaunch: true,
          tags: { ...args.tags, Name: `${name}-public-${plan.az}` },
        },
        { parent: this },
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-public-${plan.index}`,
        { subnetId: subnet.id, routeTableId: routeTable.id },
        { parent: this },
      );
      return subnet.id;
    });
    this.vpcId = vpc.id;

    this.registerOutputs({ vpcId: this.vpcId, subnetIds: this.subnetIds });
  }
}
