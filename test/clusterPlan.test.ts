import * as path from "path";
import { ClusterPlan, planCluster } from "../lib/clusterPlan";
import { parseConfig } from "../lib/config";
import { GATEWAY_LABEL } from "../lib/plan";
import { RegionFacts } from "../lib/region";
import { renderScript } from "../lib/scripts";
import { ClusterConfig } from "../lib/types";
import { readStackConfig } from "./program/harnessRun";

const PROJECT_ROOT = path.resolve(__dirname, "..");
/** A region whose zones (named `names`, IDs in order) offer every type; Graviton types are arm64. */
function region(names: string[]): RegionFacts {
  const types = ["t3.small", "t3.medium", "m6i.large", "m7g.large", "t4g.small"];
  const zones = names.map((name, i) => ({ name, zoneId: `use1-az${i + 1}` }));
  return {
    zones,
    offerings: Object.fromEntries(zones.map((z) => [z.zoneId, types])),
    architectures: Object.fromEntries(types.map((t) => [t, /g\./.test(t) ? ["arm64"] : ["x86_64"]])),
  };
}
const ZONES = region(["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]);

/** A stack file read and parsed the way the program reads it. */
function stackConfig(stack: string): ClusterConfig {
  // With the placeholders (admin address, prod's domain) replaced, as validation tells the user to.
  const raw = readStackConfig(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`));
  raw.adminCidrs = ["81.2.69.160/32"];
  if (raw.gateway.domain) raw.gateway.domain = "app.mycompany.org";
  return parseConfig(raw, stack, PROJECT_ROOT);
}

function config(raw: Record<string, unknown>): ClusterConfig {
  return parseConfig({ adminCidrs: ["81.2.69.0/24"], ...raw }, "t", PROJECT_ROOT);
}

/**
 * The plan as reviewable data. Of the user data only its parameters: the script itself is
 * snapshotted in scripts.test.ts, and the test below checks the rest is that script.
 */
function asData(plan: ClusterPlan): Record<string, unknown> {
  return { ...plan, userData: plan.userData.split("\n").filter((line) => line.startsWith("export ")) };
}

describe("planCluster on the stack files", () => {
  it.each(["dev", "prod"])("plans the %s stack as reviewed", (stack) => {
    expect(asData(planCluster(stackConfig(stack), ZONES))).toMatchSnapshot();
  });

  it("renders user-data.sh with the pinned Docker and containerd versions, the SSH user and log rotation", () => {
    const plan = planCluster(config({ sshUser: "admin" }), ZONES);
    expect(plan.userData).toBe(
      renderScript("user-data", {
        DOCKER_VERSION: "29.8.1",
        CONTAINERD_VERSION: "2.3.6",
        SSH_USER: "admin",
        LOG_MAX_SIZE: "10m",
        LOG_MAX_FILE: "3",
      }),
    );
    expect(plan.softwareTags).toEqual({ "docker-version": "29.8.1", "containerd-version": "2.3.6" });
  });
});

describe("planCluster Elastic IPs", () => {
  it("without a load balancer, gives one to each manager and each gateway node, none to other workers", () => {
    const plan = planCluster(
      config({
        managers: { count: 3 },
        workerPools: [
          { name: "edge", count: 2 },
          { name: "app", count: 2 },
        ],
        gateway: { placement: "edge", loadBalancer: false },
      }),
      ZONES,
    );
    const withIp = plan.groups.flatMap((g) => g.nodes.filter((n) => n.elasticIp).map((n) => n.key));
    expect(withIp).toEqual(["manager-0", "manager-1", "manager-2", "edge-0", "edge-1"]);
    expect(plan.notes.filter((n) => n.includes("Elastic IPs"))).toEqual([]);
  });

  it("with the load balancer (the default), gives one to each manager only: clients dial the load balancer", () => {
    const plan = planCluster(
      config({ managers: { count: 3 }, workerPools: [{ name: "edge", count: 2 }], gateway: { placement: "edge" } }),
      ZONES,
    );
    const withIp = plan.groups.flatMap((g) => g.nodes.filter((n) => n.elasticIp).map((n) => n.key));
    expect(withIp).toEqual(["manager-0", "manager-1", "manager-2"]);
  });

  it("notes AWS's default quota of 5 when the cluster needs more, with the command that shows yours", () => {
    const plan = planCluster(
      config({
        managers: { count: 5 },
        workerPools: [{ name: "edge", count: 1 }],
        gateway: { placement: "edge", loadBalancer: false },
      }),
      ZONES,
    );
    expect(plan.notes.filter((n) => n.includes("Elastic IPs"))).toEqual([
      expect.stringMatching(/^this cluster uses 6 Elastic IPs .* default quota of 5 .*--quota-code L-0263D0A3/),
    ]);
  });
});

describe("planCluster zones", () => {
  it("uses the region's first zones, as many as configured", () => {
    const plan = planCluster(config({ availabilityZones: 3 }), ZONES);
    expect(plan.subnets.map((s) => s.az)).toEqual(["us-east-1a", "us-east-1b", "us-east-1c"]);
  });

  it("refuses more zones than the region offers, naming the config key and the zones", () => {
    expect(() => planCluster(config({ availabilityZones: 3 }), region(["eu-south-2a", "eu-south-2b"]))).toThrow(
      "aws-swarm:availabilityZones is 3, but only 2 of the region's zones offer every configured instance type (t3.small); use fewer zones or other instance types",
    );
  });
});

describe("planCluster groups and the gateway", () => {
  const plan = planCluster(
    config({
      workerPools: [
        { name: "infra", count: 2 },
        { name: "spare", count: 0 },
        { name: "app", count: 1 },
      ],
      gateway: { placement: "infra" },
    }),
    ZONES,
  );
  const nodes = plan.groups.flatMap((group) => group.nodes);

  it("lists the managers first, then every pool in config order, empty ones included", () => {
    expect(plan.groups.map((g) => [g.name, g.nodes.map((n) => n.key)])).toEqual([
      ["manager", ["manager-0"]],
      ["infra", ["infra-0", "infra-1"]],
      ["spare", []],
      ["app", ["app-0"]],
    ]);
  });

  it("runs the gateway exactly on the placement's nodes, and labels exactly those", () => {
    expect(nodes.filter((n) => n.runsGateway).map((n) => n.key)).toEqual(["infra-0", "infra-1"]);
    expect(nodes.filter((n) => n.labels[GATEWAY_LABEL] === "true").map((n) => n.key)).toEqual(["infra-0", "infra-1"]);
  });

  it("runs the gateway on the managers by default", () => {
    const byDefault = planCluster(config({ managers: { count: 3 } }), ZONES).groups.flatMap((g) => g.nodes);
    expect(byDefault.filter((n) => n.runsGateway).map((n) => n.key)).toEqual(["manager-0", "manager-1", "manager-2"]);
  });
});

describe("planCluster architectures", () => {
  const images = [{ name: "echo", context: "services/echo" }];
  const mixed = { workerPools: [{ name: "app", count: 2, instanceType: "m7g.large" }] };

  it("gives each group and node the architecture of its instance type", () => {
    const plan = planCluster(config(mixed), ZONES);
    expect(plan.groups.map((g) => [g.name, g.architecture, g.nodes.map((n) => n.architecture)])).toEqual([
      ["manager", "x86_64", ["x86_64"]],
      ["app", "arm64", ["arm64", "arm64"]],
    ]);
  });

  it("builds images for arm64 only when every node is arm64", () => {
    const arm = { managers: { instanceType: "t4g.small" }, workerPools: mixed.workerPools };
    expect(planCluster(config(arm), ZONES).imagePlatform).toBe("linux/arm64");
    expect(planCluster(config(mixed), ZONES).imagePlatform).toBe("linux/amd64");
    expect(planCluster(config({}), ZONES).imagePlatform).toBe("linux/amd64");
  });

  it("refuses mixed architectures when images are built, and only then", () => {
    expect(() => planCluster(config({ ...mixed, images }), ZONES)).toThrow(
      "aws-swarm:images builds each image for one platform, but the nodes mix CPU architectures (x86_64: manager (t3.small); arm64: app (m7g.large))",
    );
    expect(planCluster(config(mixed), ZONES).notes).toHaveLength(1);
  });

  it("ignores the architecture of a pool without nodes", () => {
    const idle = { workerPools: [{ name: "arm", count: 0, instanceType: "m7g.large" }], images };
    const plan = planCluster(config(idle), ZONES);
    expect(plan.imagePlatform).toBe("linux/amd64");
  });
});
