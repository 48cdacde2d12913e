/**
 * No special manager (issue 10), on a real 3-manager cluster planned by the engine model: the
 * first `up` is killed during the joins and run again, the first manager is powered off under
 * load, replaced with `--replace manager-0` while it is still off, and finally the cluster is
 * destroyed with a manager powered off. Request counts and recovery times are printed.
 */
import * as fs from "fs";
import * as path from "path";
import { downHosts, powerOff, upHosts } from "../harness/hosts";
import { ClusterRun, onHost, readHosts, readStackConfig, stateFileOf, upOnHarness } from "../program/harnessRun";
import { ProgramKilled } from "../program/runner";
import { PlanLine } from "../program/engine/steps";
import { fetchRoundRobin, underLoad } from "../support/load";
import { nodeList as listNodes, NodeRow } from "../support/nodes";

const HARNESS = 7;
const dev = readStackConfig(path.join(__dirname, "..", "..", "Pulumi.dev.yaml"));
const MANAGERS = ["manager-0", "manager-1", "manager-2"];
const ha = {
  ...dev,
  clusterName: "ha",
  managers: { count: 3 },
  availabilityZones: 3,
  workerPools: [
    { name: "infra", count: 1, labels: { type: "low-memory" } },
    { name: "app", count: 1 },
  ],
};

const nodeList = (host: string) => listNodes(HARNESS, host);

const managerStatuses = (nodes: NodeRow[]) =>
  nodes
    .map((n) => n.ManagerStatus)
    .filter(Boolean)
    .sort();

function changes(plan: PlanLine[], op: PlanLine["op"]): string[] {
  return plan
    .filter((l) => l.op === op)
    .map((l) => l.name)
    .sort();
}

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    console.log(`${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

/** Polls `read` every 2 s for up to `seconds` until `done` holds; returns the last value read. */
async function eventually<T>(seconds: number, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000));
    value = await read();
  }
  return value;
}

describe("ha cluster: 3 managers over 3 AZs, 2 workers; any node can die", () => {
  let first: ClusterRun;
  let current: ClusterRun;

  beforeAll(async () => {
    // Five nodes; the replacement of manager-0 gets a fresh host when the engine creates it.
    await timed("ha: hosts up (5)", () => upHosts(5, HARNESS));
  });
  afterAll(async () => {
    await downHosts(HARNESS);
  });

  it("converges when the first up is killed during the joins and run again: one swarm, no duplicate node", async () => {
    // Killed while manager-1 joins (after init, with the other joins still to come).
    const joining = (text: string) =>
      JSON.parse(text).pending_operations.some((op: any) => op.resource.name === "ha-join-manager-1");
    await expect(
      timed("ha: pulumi up, killed during the joins", () => upOnHarness(HARNESS, "ha", ha, { killWhen: joining })),
    ).rejects.toThrow(ProgramKilled);
    const pending = JSON.parse(fs.readFileSync(stateFileOf(HARNESS, "ha"), "utf8")).pending_operations;
    expect(pending.map((op: any) => op.resource.name)).toContain("ha-join-manager-1");
    first = await timed("ha: pulumi up again", () => upOnHarness(HARNESS, "ha", ha));
    current = first;
    expect(first.result.warnings.join("\n")).toContain("pending operations from previous deployment");
    const nodes = await nodeList(first.nodeHosts["manager-0"]);
    expect(nodes.map((n) => n.Hostname).sort()).toEqual(Object.values(first.nodeHosts).sort());
    expect(nodes.some((n) => n.Status === "Down")).toBe(false);
    const swarmIds = await Promise.all(
      Object.values(first.nodeHosts).map((host) =>
        onHost(HARNESS, host, "docker info --format '{{if .Swarm.Cluster}}{{.Swarm.Cluster.ID}}{{end}}'"),
      ),
    );
    // Workers can't see the cluster id (empty); every manager reports the one swarm.
    expect(new Set(swarmIds.filter(Boolean))).toEqual(new Set([first.result.outputs.swarmId]));
  });

  it("has three reachable managers, one leader, and a gateway answering on every manager", async () => {
    const ids = first.result.outputs.nodeIds as Record<string, string>;
    for (const key of MANAGERS) {
      const nodes = await nodeList(first.nodeHosts[key]);
      expect(nodes).toHaveLength(5);
      expect(managerStatuses(nodes)).toEqual(["Leader", "Reachable", "Reachable"]);
    }
    const manager = first.nodeHosts["manager-0"];
    const azs = await Promise.all(
      MANAGERS.map(async (key) =>
        JSON.parse(await onHost(HARNESS, manager, `docker node inspect --format '{{json .Spec.Labels}}' ${ids[key]}`)),
      ),
    );
    expect(new Set(azs.map((labels) => labels.az)).size).toBe(3);
    for (const url of first.result.outputs.gatewayUrls as string[]) {
      expect(await (await fetch(`${url}/hello`)).text()).toContain("service=hello ");
    }
  });

  it("loses manager-0 (powered off) with no failed request through the other gateways, and keeps a leader", async () => {
    const survivors = (first.result.outputs.gatewayUrls as string[]).slice(1).map((url) => `${url}/hello`);
    const watcher = first.nodeHosts["manager-1"];
    const traffic = await underLoad(
      fetchRoundRobin(survivors),
      () =>
        timed("ha: manager-0 powered off until the swarm marks it Down", async () => {
          await powerOff(HARNESS, first.nodeHosts["manager-0"]);
          // While a new leader is elected, `docker node ls` may fail for a moment.
          return eventually(
            90,
            () => nodeList(watcher).catch(() => []),
            (nodes) => nodes.some((n) => n.Hostname === first.nodeHosts["manager-0"] && n.Status === "Down"),
          );
        }),
      { concurrency: 4, tailMs: 5000 },
    );
    console.log(`ha: requests while manager-0 died: ${traffic.sent} sent, ${traffic.failed} failed`, traffic.errors);
    const down = traffic.result.find((n) => n.Hostname === first.nodeHosts["manager-0"]);
    expect(down?.Status).toBe("Down");
    expect(managerStatuses(traffic.result)).toEqual(["Leader", "Reachable", "Unreachable"]);
    expect(traffic.sent).toBeGreaterThan(50);
    expect(traffic.failed).toBe(0);
  });

  it("reports manager-0 as Down on the next preview (swarm.reportDownAfter 0), naming it and what to do; nothing runs", async () => {
    const preview = await timed("ha: preview with manager-0 Down", () =>
      upOnHarness(HARNESS, "ha", { ...ha, swarm: { ...dev.swarm, reportDownAfter: 0 } }, { mode: "preview" }),
    );
    const reports = preview.result.warnings.filter((w) => w.includes("has been Down for"));
    console.log(`ha: node health in the preview: ${reports.join(" | ")}`);
    expect(reports).toHaveLength(1);
    const managerId = (first.result.outputs.nodeIds as Record<string, string>)["manager-0"];
    expect(reports[0]).toMatch(new RegExp(`manager-0 \\([^,]+, swarm node ${managerId}\\) has been Down for \\d+ s;`));
    expect(reports[0]).toContain("pulumi up --replace <the urn of manager-0's instance>");
    expect(preview.result.plan.every((l) => l.op === "same")).toBe(true);
    expect(preview.result.commandsRun).toBe(0);
    expect(preview.result.checksRun).toBe(1);
  });

  it("replaces the dead manager-0 (--replace manager-0): same swarm, three managers, no Down node, labels restored", async () => {
    const survivors = (first.result.outputs.gatewayUrls as string[]).slice(1).map((url) => `${url}/hello`);
    const traffic = await underLoad(
      fetchRoundRobin(survivors),
      () =>
        timed("ha: recovery, pulumi up --replace manager-0", () =>
          upOnHarness(HARNESS, "ha", ha, { replace: ["manager-0"] }),
        ),
      { concurrency: 4 },
    );
    const run = traffic.result;
    console.log(`ha: requests during the replacement: ${traffic.sent} sent, ${traffic.failed} failed`, traffic.errors);
    expect(run.result.outputs.swarmId).toBe(first.result.outputs.swarmId);
    expect(changes(run.result.plan, "replace")).toEqual(
      expect.arrayContaining([
        "ha-authorize-manager-0",
        "ha-join-manager-0",
        "ha-manager-0",
        "ha-member-manager-0",
        "ha-ready-manager-0",
      ]),
    );
    expect(changes(run.result.plan, "create")).toEqual([]);
    expect(run.result.plan.find((l) => l.name === "ha-init")!.op).toBe("update");
    const fresh = run.nodeHosts["manager-0"];
    expect(fresh).not.toBe(first.nodeHosts["manager-0"]);
    const nodes = await nodeList(fresh);
    expect(nodes.map((n) => n.Hostname).sort()).toEqual(Object.values(run.nodeHosts).sort());
    expect(nodes.some((n) => n.Status === "Down")).toBe(false);
    expect(managerStatuses(nodes)).toEqual(["Leader", "Reachable", "Reachable"]);
    const id = (run.result.outputs.nodeIds as Record<string, string>)["manager-0"];
    const labels = JSON.parse(
      await onHost(HARNESS, fresh, `docker node inspect --format '{{json .Spec.Labels}}' ${id}`),
    );
    expect(labels).toMatchObject({ role: "manager", "aws-swarm.gateway": "true" });
    expect(labels.az).toMatch(/^us-east-1[a-d]$/);
    expect(await (await fetch(`${(run.result.outputs.gatewayUrls as string[])[0]}/hello`)).text()).toContain(
      "service=hello ",
    );
    expect(traffic.failed).toBe(0);
    // The old manager-0's entry was removed, and no node is reported Down.
    expect((run.result.outputs.stackStatus as { down: unknown[] }).down).toEqual([]);
    current = run;
  });

  it("destroys the cluster with manager-0 powered off, in under 2 minutes, leaving nothing", async () => {
    await powerOff(HARNESS, current.nodeHosts["manager-0"]);
    const started = Date.now();
    const destroyed = await timed("ha: pulumi destroy with manager-0 powered off", () =>
      upOnHarness(HARNESS, "ha", ha, { mode: "destroy" }),
    );
    const seconds = (Date.now() - started) / 1000;
    expect(destroyed.result.plan.every((l) => l.op === "delete")).toBe(true);
    // Every node step goes with its instance and every swarm-wide step with the swarm.
    expect(destroyed.result.commandsRun).toBe(0);
    expect(JSON.parse(fs.readFileSync(stateFileOf(HARNESS, "ha"), "utf8")).resources).toEqual([]);
    const nodeHosts = Object.values(current.nodeHosts);
    expect(readHosts(HARNESS).hosts.filter((h) => nodeHosts.includes(h.name))).toEqual([]);
    expect(seconds).toBeLessThan(120);
  });
});
