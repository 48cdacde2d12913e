import * as pulumi from "@pulumi/pulumi";
import { NodeAmis } from "../components/ami";
import { NodeGroup, NodeGroupArgs } from "../components/nodeGroup";
import { NodePlan, planNodes, planSubnets } from "../lib/plan";
import { ClusterConfig } from "../lib/types";

// The node group and the AMI lookup in this process, under Pulumi's mocks: what they hand on to
// the rest of the program. test/program.test.ts covers the same through the whole program.

const invokes: pulumi.runtime.MockCallArgs[] = [];
pulumi.runtime.setMocks({
  newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
  call: (args) => {
    invokes.push(args);
    if (args.token !== "aws:ec2/getAmi:getAmi") {
      throw new Error(`no mock for the invoke ${args.token}`);
    }
    const architecture = args.inputs.filters.find((f: { name: string }) => f.name === "architecture").values[0];
    return { id: `ami-${architecture}` };
  },
});

function valueOf<T>(value: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
  return new Promise((resolve) => pulumi.output(value).apply(resolve));
}

const config = {
  managers: { name: "manager", count: 1, instanceType: "t3.small", volumeSize: 20, labels: {} },
  workerPools: [{ name: "infra", count: 3, instanceType: "t3.small", volumeSize: 20, labels: {} }],
  gateway: { port: 80, publicCidrs: ["0.0.0.0/0"], routes: [], placement: "infra" },
} as unknown as ClusterConfig;
const infra = planNodes(config, planSubnets("10.0.0.0/16", ["a", "b"]), { "t3.small": "x86_64" }).filter(
  (n) => n.pool === "infra",
);

function group(name: string, nodes: NodePlan[], extra: Partial<NodeGroupArgs> = {}): NodeGroup {
  return new NodeGroup(name, {
    nodes,
    subnetIds: ["subnet-a", "subnet-b"],
    securityGroupIds: ["sg-cluster"],
    gatewaySecurityGroupIds: ["sg-gateway"],
    ami: "ami-test",
    keyName: "key",
    instanceProfileName: "profile",
    userData: "#!/bin/bash\n",
    softwareTags: { "docker-version": "29.8.1" },
    clusterName: "t",
    tags: { cluster: "t" },
    reachableThrough: [],
    ...extra,
  });
}

describe("NodeGroup", () => {
  it("pairs every planned node with the instance made for it, in plan order", async () => {
    const nodes = group("t-infra", infra).nodes;
    expect(nodes.map((n) => n.plan)).toEqual(infra);
    const names = await Promise.all(nodes.map(async (n) => (await valueOf(n.instance.tags))!.Name));
    expect(names).toEqual(["t-infra-0", "t-infra-1", "t-infra-2"]);
    const subnets = await Promise.all(nodes.map((n) => valueOf(n.instance.subnetId)));
    expect(subnets).toEqual(["subnet-a", "subnet-b", "subnet-a"]);
  });

  it("adds the gateway group to the nodes whose plan runs the gateway, and only to them", async () => {
    const plans = infra.map((plan, i) => ({ ...plan, runsGateway: i === 1 }));
    const nodes = group("t-gw", plans).nodes;
    const groups = await Promise.all(nodes.map((n) => valueOf(n.instance.vpcSecurityGroupIds)));
    expect(groups).toEqual([["sg-cluster"], ["sg-cluster", "sg-gateway"], ["sg-cluster"]]);
  });

  it("boots every node of the group from the AMI it is given", async () => {
    const nodes = group("t-ami", infra, { ami: pulumi.output("ami-given") }).nodes;
    expect(await Promise.all(nodes.map((n) => valueOf(n.instance.ami)))).toEqual([
      "ami-given",
      "ami-given",
      "ami-given",
    ]);
  });
});

describe("NodeAmis", () => {
  beforeEach(() => invokes.splice(0));

  it("looks up Canonical's Ubuntu 24.04 once per architecture", async () => {
    const amis = new NodeAmis();
    const found = await Promise.all([amis.of("x86_64"), amis.of("arm64"), amis.of("x86_64")].map(valueOf));
    expect(found).toEqual(["ami-x86_64", "ami-arm64", "ami-x86_64"]);
    expect(invokes.map((i) => i.inputs.filters[0].values[0])).toEqual([
      "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*",
      "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-*",
    ]);
    expect(invokes.map((i) => i.inputs.owners)).toEqual([["099720109477"], ["099720109477"]]);
  });

  it("uses a configured AMI for every architecture without a lookup", async () => {
    const amis = new NodeAmis("ami-0123456789abcdef0");
    expect(await Promise.all([amis.of("x86_64"), amis.of("arm64")].map(valueOf))).toEqual([
      "ami-0123456789abcdef0",
      "ami-0123456789abcdef0",
    ]);
    expect(invokes).toEqual([]);
  });
});
