/**
 * The real program against real hosts: only the AWS API is mocked. Instances map to harness hosts
 * (own netns, dockerd, sshd); every remote command runs over SSH exactly as the provider runs it.
 */
import { downHosts, upHosts } from "../harness/hosts";
import { onHost, upOnHarness } from "../program/harnessRun";
import { runRemovedDeletes } from "../program/runner";

const HARNESS = 1;

interface NodeRow {
  ID: string;
  Hostname: string;
  Status: string;
  Availability: string;
  ManagerStatus: string;
}

async function nodeList(host: string): Promise<NodeRow[]> {
  const out = await onHost(HARNESS, host, "docker node ls --format '{{json .}}'");
  return out.split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

async function labelsOf(host: string, nodeId: string): Promise<Record<string, string>> {
  return JSON.parse(await onHost(HARNESS, host, `docker node inspect --format '{{json .Spec.Labels}}' ${nodeId}`));
}

function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  return work().finally(() => console.log(`${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`));
}

const devPools = [
  { name: "infra", count: 1, labels: { type: "low-memory" } },
  { name: "app", count: 2 },
];

describe("dev cluster: 1 manager, infra(1, type=low-memory), app(2)", () => {
  const config = { clusterName: "dev", workerPools: devPools, swarm: { taskHistoryLimit: 2 } };
  let first: Awaited<ReturnType<typeof upOnHarness>>;
  let managerHost: string;

  beforeAll(async () => {
    await timed("hosts up (4)", () => upHosts(4, HARNESS));
    first = await timed("pulumi up #1", () => upOnHarness(HARNESS, "dev", config));
    managerHost = first.nodeHosts["manager-0"];
  });
  afterAll(async () => {
    await downHosts(HARNESS);
  });

  it("forms one swarm with every node Ready and labelled as configured plus the automatic labels", async () => {
    const nodes = await nodeList(managerHost);
    expect(nodes).toHaveLength(4);
    expect(nodes.every((n) => n.Status === "Ready" && n.Availability === "Active")).toBe(true);
    const ids = first.result.outputs.nodeIds as Record<string, string>;
    expect(Object.keys(ids).sort()).toEqual(["app-0", "app-1", "infra-0", "manager-0"]);
    expect(await labelsOf(managerHost, ids["infra-0"])).toMatchObject({
      type: "low-memory",
      pool: "infra",
      role: "worker",
      az: "us-east-1a",
      "instance-type": "t3.small",
    });
    expect(await labelsOf(managerHost, ids["manager-0"])).toMatchObject({ role: "manager", "aws-swarm.gateway": "true" });
    expect(first.result.outputs.swarmId).toMatch(/^[a-z0-9]{25}$/);
  });

  it("places a service constrained to node.labels.type == low-memory only on the infra node", async () => {
    const registry = (await onHost(HARNESS, managerHost, "cat /etc/docker/daemon.json")).match(/"([\d.]+:5000)"/)?.[1];
    await onHost(
      HARNESS,
      managerHost,
      `docker service create -d --name lowmem --replicas 2 --constraint 'node.labels.type == low-memory' ` +
        `${registry}/aws-swarm/base:bookworm sleep 600 >/dev/null`,
    );
    const deadline = Date.now() + 60_000;
    let placed: string[] = [];
    while (Date.now() < deadline) {
      placed = (await onHost(HARNESS, managerHost, "docker service ps lowmem --filter desired-state=running --format '{{.Node}} {{.CurrentState}}'"))
        .split("\n")
        .filter((l) => l.includes("Running"))
        .map((l) => l.split(" ")[0]);
      if (placed.length === 2) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(placed).toEqual([first.nodeHosts["infra-0"], first.nodeHosts["infra-0"]]);
    await onHost(HARNESS, managerHost, "docker service rm lowmem >/dev/null");
  });

  it("changes nothing when run again: same swarm, same node ids, no duplicates", async () => {
    const again = await timed("pulumi up #2 (no change)", () => upOnHarness(HARNESS, "dev", config, first.nodeHosts));
    expect(again.result.outputs.swarmId).toBe(first.result.outputs.swarmId);
    expect(again.result.outputs.nodeIds).toEqual(first.result.outputs.nodeIds);
    expect(await nodeList(managerHost)).toHaveLength(4);
  });

  it("re-applies a changed label without rejoining the node", async () => {
    const relabelled = {
      ...config,
      workerPools: [{ name: "infra", count: 1, labels: { type: "infra-only" } }, devPools[1]],
    };
    const run = await timed("pulumi up #3 (label change)", () => upOnHarness(HARNESS, "dev", relabelled, first.nodeHosts));
    const ids = run.result.outputs.nodeIds as Record<string, string>;
    expect(ids).toEqual(first.result.outputs.nodeIds);
    expect((await labelsOf(managerHost, ids["infra-0"])).type).toBe("infra-only");
  });

  it("drains and removes a worker that leaves the config, leaving no Down node", async () => {
    const smaller = { ...config, workerPools: [devPools[0], { name: "app", count: 1 }] };
    const before = await upOnHarness(HARNESS, "dev", config, first.nodeHosts);
    const after = await timed("pulumi up #4 (app 2 → 1)", () => upOnHarness(HARNESS, "dev", smaller, first.nodeHosts));
    const removed = await timed("delete steps of app-1", () => runRemovedDeletes(before.result, after.result));
    expect(removed.map((r) => r.name)).toEqual(["dev-member-app-1", "dev-join-app-1", "dev-ready-app-1"]);
    const nodes = await nodeList(managerHost);
    expect(nodes.map((n) => n.Hostname).sort()).toEqual(
      [first.nodeHosts["manager-0"], first.nodeHosts["infra-0"], first.nodeHosts["app-0"]].sort(),
    );
    expect(nodes.some((n) => n.Status === "Down")).toBe(false);
  });
});

describe("ha cluster: 3 managers, 2 workers", () => {
  beforeAll(async () => {
    await timed("hosts up (5)", () => upHosts(5, HARNESS));
  });
  afterAll(async () => {
    await downHosts(HARNESS);
  });

  it("has three reachable managers, one leader, and keeps quorum", async () => {
    const run = await timed("pulumi up (3+2)", () =>
      upOnHarness(HARNESS, "ha", {
        clusterName: "ha",
        managers: { count: 3 },
        availabilityZones: 3,
        workerPools: [{ name: "app", count: 2 }],
      }),
    );
    for (const key of ["manager-0", "manager-1", "manager-2"]) {
      const nodes = await nodeList(run.nodeHosts[key]);
      expect(nodes).toHaveLength(5);
      const managers = nodes.filter((n) => n.ManagerStatus);
      expect(managers.map((n) => n.ManagerStatus).sort()).toEqual(["Leader", "Reachable", "Reachable"]);
    }
    const azs = await Promise.all(
      ["manager-0", "manager-1", "manager-2"].map(async (key) =>
        (await labelsOf(run.nodeHosts["manager-0"], (run.result.outputs.nodeIds as Record<string, string>)[key])).az,
      ),
    );
    expect(new Set(azs).size).toBe(3);
  });
});
