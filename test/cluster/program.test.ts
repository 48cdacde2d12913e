/**
 * The real program against real hosts: only the AWS API is mocked. Instances map to harness hosts
 * (own netns, dockerd, sshd); every remote command runs over SSH exactly as the provider runs it,
 * and the stack is the user's dev stack from Pulumi.dev.yaml. Runs go through the engine model:
 * a re-run runs only what changed, and deletes come from the engine at the end of a run.
 */
import * as fs from "fs";
import * as path from "path";
import { downHosts, upHosts } from "../harness/hosts";
import { onHost, readHosts, readStackConfig, stateFileOf, upOnHarness } from "../program/harnessRun";
import { PlanLine } from "../program/engine/steps";
import { fetchRoundRobin, underLoad } from "../support/load";
import { nodeList as listNodes } from "../support/nodes";

const HARNESS = 1;
const dev = readStackConfig(path.join(__dirname, "..", "..", "Pulumi.dev.yaml"));

const nodeList = (host: string) => listNodes(HARNESS, host);

async function labelsOf(host: string, nodeId: string): Promise<Record<string, string>> {
  return JSON.parse(await onHost(HARNESS, host, `docker node inspect --format '{{json .Spec.Labels}}' ${nodeId}`));
}

/** "op name" for every resource the plan changes, sorted. */
function changes(plan: PlanLine[], op?: PlanLine["op"]): string[] {
  return plan
    .filter((l) => l.op !== "same" && (!op || l.op === op))
    .map((l) => `${l.op} ${l.name}`)
    .sort();
}

function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  return work().finally(() => console.log(`${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`));
}

describe("dev cluster from Pulumi.dev.yaml: 1 manager, infra(1, type=low-memory), app(2)", () => {
  let first: Awaited<ReturnType<typeof upOnHarness>>;
  let current: Awaited<ReturnType<typeof upOnHarness>>;
  let currentConfig: Record<string, any>;
  let manager: string;
  let gateway: string;

  beforeAll(async () => {
    // Four nodes; a replacement instance gets a fresh host when the engine creates it.
    await timed("dev: hosts up (4)", () => upHosts(4, HARNESS));
    first = await timed("dev: pulumi up #1", () => upOnHarness(HARNESS, "dev", dev));
    manager = first.nodeHosts["manager-0"];
    gateway = first.result.outputs.url as string;
  });
  afterAll(async () => {
    await downHosts(HARNESS);
  });

  it("forms one swarm with every node Ready and labelled as configured plus the automatic labels", async () => {
    const nodes = await nodeList(manager);
    expect(nodes).toHaveLength(4);
    expect(nodes.every((n) => n.Status === "Ready" && n.Availability === "Active")).toBe(true);
    const ids = first.result.outputs.nodeIds as Record<string, string>;
    expect(Object.keys(ids).sort()).toEqual(["app-0", "app-1", "infra-0", "manager-0"]);
    expect(await labelsOf(manager, ids["infra-0"])).toMatchObject({
      type: "low-memory",
      pool: "infra",
      role: "worker",
      az: "us-east-1a",
      "instance-type": "t3.small",
    });
    // The second zone offering t3: us-east-1b (use1-az3 in the mocked region) has none.
    expect(await labelsOf(manager, ids["app-1"])).toMatchObject({ pool: "app", az: "us-east-1c" });
    expect(await labelsOf(manager, ids["manager-0"])).toMatchObject({ role: "manager", "aws-swarm.gateway": "true" });
    expect(first.result.outputs.swarmId).toMatch(/^[a-z0-9]{25}$/);
  });

  it("answers every route at url (the load balancer) with its own service, found by Swarm DNS name", async () => {
    expect(gateway).toBe(`http://${readHosts(HARNESS).loadBalancer!.publicIp}`);
    for (const service of ["hello", "world", "grafana"]) {
      const response = await fetch(`${gateway}/${service}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain(`service=${service} `);
    }
    expect((await fetch(`${gateway}/nope`)).status).toBe(404);
  });

  it("runs the service placed by node.labels.type == low-memory only on the infra node", async () => {
    const nodes = await onHost(
      HARNESS,
      manager,
      "docker service ps infra_grafana --filter desired-state=running --format '{{.Node}}'",
    );
    expect(nodes.split("\n")).toEqual([first.nodeHosts["infra-0"]]);
    const app = await onHost(
      HARNESS,
      manager,
      "docker service ps app_hello app_world --filter desired-state=running --format '{{.Node}}'",
    );
    expect(new Set(app.split("\n"))).toEqual(new Set([first.nodeHosts["app-0"], first.nodeHosts["app-1"]]));
  });

  it("runs nothing when run again with the same config: every resource unchanged, no remote command", async () => {
    const again = await timed("dev: pulumi up #2 (no change)", () => upOnHarness(HARNESS, "dev", dev));
    expect(changes(again.result.plan)).toEqual([]);
    expect(again.result.commandsRun).toBe(0);
    expect(again.result.outputs.swarmId).toBe(first.result.outputs.swarmId);
    expect(again.result.outputs.nodeIds).toEqual(first.result.outputs.nodeIds);
    expect(await nodeList(manager)).toHaveLength(4);
  });

  it("re-applies a changed label by updating only that pool's membership commands", async () => {
    const pools = dev.workerPools.map((pool: any) =>
      pool.name === "app" ? { ...pool, labels: { tier: "web" } } : pool,
    );
    const run = await timed("dev: pulumi up #3 (label change)", () =>
      upOnHarness(HARNESS, "dev", { ...dev, workerPools: pools }),
    );
    expect(changes(run.result.plan)).toEqual(["update dev-member-app-0", "update dev-member-app-1"]);
    expect(run.result.commandsRun).toBe(2);
    const ids = run.result.outputs.nodeIds as Record<string, string>;
    expect(ids).toEqual(first.result.outputs.nodeIds);
    expect(await labelsOf(manager, ids["app-0"])).toMatchObject({ tier: "web", pool: "app" });
  });

  it("drains and removes a worker that leaves the config, with no Down node and no failed request", async () => {
    const pools = dev.workerPools.map((pool: any) => (pool.name === "app" ? { ...pool, count: 1 } : pool));
    const traffic = await underLoad(
      fetchRoundRobin([`${gateway}/hello`, `${gateway}/world`]),
      () => timed("dev: pulumi up #4 (app 2 → 1)", () => upOnHarness(HARNESS, "dev", { ...dev, workerPools: pools })),
      { concurrency: 4 },
    );
    const after = traffic.result;
    current = after;
    currentConfig = { ...dev, workerPools: pools };
    console.log(`dev: requests during the removal: ${traffic.sent} sent, ${traffic.failed} failed`, traffic.errors);
    // The label change above is undone for app-0 too (dev's own labels again).
    expect(changes(after.result.plan, "delete")).toEqual([
      "delete dev-app-1",
      "delete dev-authorize-app-1",
      "delete dev-join-app-1",
      "delete dev-member-app-1",
      "delete dev-ready-app-1",
    ]);
    const nodes = await nodeList(manager);
    expect(nodes.map((n) => n.Hostname).sort()).toEqual(
      [first.nodeHosts["manager-0"], first.nodeHosts["infra-0"], first.nodeHosts["app-0"]].sort(),
    );
    expect(nodes.some((n) => n.Status === "Down")).toBe(false);
    expect(traffic.sent).toBeGreaterThan(50);
    expect(traffic.failed).toBe(0);
  });

  it("replaces an instance (--replace app-0): the new node joins and is labelled, the old node is removed", async () => {
    const old = current.nodeHosts["app-0"];
    const replaced = await timed("dev: pulumi up #5 (--replace app-0)", () =>
      upOnHarness(HARNESS, "dev", currentConfig, { replace: ["app-0"] }),
    );
    expect(changes(replaced.result.plan)).toEqual([
      "replace dev-app-0",
      "replace dev-authorize-app-0",
      "replace dev-join-app-0",
      "replace dev-member-app-0",
      "replace dev-ready-app-0",
    ]);
    const spare = replaced.nodeHosts["app-0"];
    expect(spare).not.toBe(old);
    const nodes = await nodeList(manager);
    expect(nodes.map((n) => n.Hostname)).toContain(spare);
    expect(nodes.map((n) => n.Hostname)).not.toContain(old);
    expect(nodes.some((n) => n.Status === "Down")).toBe(false);
    const ids = replaced.result.outputs.nodeIds as Record<string, string>;
    expect(await labelsOf(manager, ids["app-0"])).toMatchObject({ pool: "app" });
    current = replaced;
  });

  // The admin SSH rule outlives every step that dials a node (instances depend on the rules), so
  // each delete step gets through; before, the rule went first and every step hung ~14 minutes.
  it("destroys the cluster: every delete step runs, the state is empty and every instance is terminated", async () => {
    const nodeHosts = Object.values(current.nodeHosts);
    const destroyed = await timed("dev: pulumi destroy", () =>
      upOnHarness(HARNESS, "dev", currentConfig, { mode: "destroy" }),
    );
    expect(destroyed.result.plan.length).toBeGreaterThan(0);
    expect(destroyed.result.plan.every((l) => l.op === "delete")).toBe(true);
    // Node steps go with their instance, swarm-wide steps (stack and node removal) with the swarm.
    expect(destroyed.result.commandsRun).toBe(0);
    expect(JSON.parse(fs.readFileSync(stateFileOf(HARNESS, "dev"), "utf8")).resources).toEqual([]);
    const left = readHosts(HARNESS).hosts.filter((h) => nodeHosts.includes(h.name));
    expect(left).toEqual([]);
  });
});
