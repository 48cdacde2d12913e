/**
 * No special manager (issue 10), on a real 3-manager cluster with autolock, planned by the engine
 * model: the first `up` is killed during the joins and run again; manager-0, then manager-2, then
 * a worker is powered off under load and replaced with `--replace` while still off; the SSH key
 * is rotated under load; an instance type change is refused; a rebooted manager is unlocked; and
 * the cluster is destroyed with a manager powered off. Request counts and times are printed.
 */
import * as fs from "fs";
import * as path from "path";
import { downHosts, fault, powerOff, readHarnessInfo, sshExec, upHosts } from "../harness/hosts";
import { ClusterRun, onHost, readHosts, readStackConfig, stateFileOf, upOnHarness } from "../program/harnessRun";
import { ProgramKilled } from "../program/runner";
import { PlanLine } from "../program/engine/steps";
import { sshRun } from "../program/ssh";
import { keyPair } from "../support/keys";
import { fetchRoundRobin, underLoad } from "../support/load";
import { nodeList as listNodes, NodeRow } from "../support/nodes";
import { eventually, runningTasks, spreadOver } from "../support/tasks";

const HARNESS = 7;
const dev = readStackConfig(path.join(__dirname, "..", "..", "Pulumi.dev.yaml"));
const MANAGERS = ["manager-0", "manager-1", "manager-2"];
// The cluster's own key pair, and the one it is rotated to.
const KEY_A = keyPair("key-a");
const KEY_B = keyPair("key-b");
// Two app nodes: hello's two replicas survive the loss of either.
const ha = {
  ...dev,
  ...KEY_A,
  clusterName: "ha",
  managers: { count: 3 },
  availabilityZones: 3,
  workerPools: [
    { name: "infra", count: 1, labels: { type: "low-memory" } },
    { name: "app", count: 2 },
  ],
  swarm: { ...dev.swarm, autolock: true },
  // Clients dial each manager's gateway here, so a lost manager's own address shows what is lost;
  // the load balancer in front is test/cluster/loadBalancer.test.ts's.
  gateway: { ...dev.gateway, loadBalancer: false },
};
const rotated = { ...ha, ...KEY_B };

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

/** The /hello route through every gateway but the one on `dead` (gateways run on the managers). */
function routesAvoiding(run: ClusterRun, dead?: string): string[] {
  const urls = run.result.outputs.gatewayUrls as string[];
  return MANAGERS.flatMap((key, i) => (key === dead ? [] : [`${urls[i]}/hello`]));
}

/** How many distinct tasks answer `route` (bodies name the task), polled until `wanted` or 60 s. */
async function tasksBehind(route: string, wanted: number): Promise<number> {
  const sample = async () => {
    const tasks = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const body = await (await fetch(route, { signal: AbortSignal.timeout(5000) })).text();
      tasks.add(/task=(\S+)/.exec(body)?.[1] ?? body);
    }
    return tasks.size;
  };
  return eventually(60, sample, (count) => count >= wanted);
}

/** The harness hosts of a run's nodes. */
function hostsOf(run: ClusterRun) {
  return readHarnessInfo(HARNESS)!.hosts.filter((h) => Object.values(run.nodeHosts).includes(h.name));
}

/** Powers a node off under load through `routes` and waits until the swarm marks it Down. */
async function loseUnderLoad(run: ClusterRun, key: string, routes: string[]): Promise<NodeRow[]> {
  const host = run.nodeHosts[key];
  const watcher = run.nodeHosts[key === "manager-1" ? "manager-0" : "manager-1"];
  const traffic = await underLoad(
    fetchRoundRobin(routes),
    () =>
      timed(`ha: ${key} powered off until the swarm marks it Down`, async () => {
        await powerOff(HARNESS, host);
        // While a new leader is elected, `docker node ls` may fail for a moment.
        return eventually(
          90,
          () => nodeList(watcher).catch(() => []),
          (nodes) => nodes.some((n) => n.Hostname === host && n.Status === "Down"),
        );
      }),
    { concurrency: 4, tailMs: 5000 },
  );
  console.log(`ha: requests while ${key} died: ${traffic.sent} sent, ${traffic.failed} failed`, traffic.errors);
  expect(traffic.result.find((n) => n.Hostname === host)?.Status).toBe("Down");
  expect(traffic.sent).toBeGreaterThan(50);
  expect(traffic.failed).toBe(0);
  return traffic.result;
}

/**
 * `pulumi up --replace <key>` under load through `routes`: the node's instance and its own steps
 * are replaced, nothing created; same swarm, every node Ready, three healthy managers, the node
 * labelled again, no failed request, nothing reported Down.
 */
async function replaceUnderLoad(before: ClusterRun, key: string, routes: string[]): Promise<ClusterRun> {
  const traffic = await underLoad(
    fetchRoundRobin(routes),
    () => timed(`ha: recovery, pulumi up --replace ${key}`, () => upOnHarness(HARNESS, "ha", ha, { replace: [key] })),
    { concurrency: 4 },
  );
  const run = traffic.result;
  console.log(
    `ha: requests during the replacement of ${key}: ${traffic.sent} sent, ${traffic.failed} failed`,
    traffic.errors,
  );
  expect(run.result.outputs.swarmId).toBe(before.result.outputs.swarmId);
  expect(changes(run.result.plan, "replace")).toEqual(
    expect.arrayContaining([
      `ha-authorize-${key}`,
      `ha-join-${key}`,
      `ha-${key}`,
      `ha-member-${key}`,
      `ha-ready-${key}`,
    ]),
  );
  expect(changes(run.result.plan, "create")).toEqual([]);
  // Managers have Elastic IPs, moved to a replacement in place: every manager keeps its address.
  expect(changes(run.result.plan, "replace").filter((change) => change.endsWith("-eip"))).toEqual([]);
  expect(run.result.outputs.managerPublicIps).toEqual(before.result.outputs.managerPublicIps);
  const fresh = run.nodeHosts[key];
  expect(fresh).not.toBe(before.nodeHosts[key]);
  const nodes = await nodeList(run.nodeHosts["manager-0"]);
  expect(nodes.map((n) => n.Hostname).sort()).toEqual(Object.values(run.nodeHosts).sort());
  expect(nodes.some((n) => n.Status === "Down")).toBe(false);
  expect(managerStatuses(nodes)).toEqual(["Leader", "Reachable", "Reachable"]);
  const id = (run.result.outputs.nodeIds as Record<string, string>)[key];
  const labels = JSON.parse(
    await onHost(HARNESS, run.nodeHosts["manager-0"], `docker node inspect --format '{{json .Spec.Labels}}' ${id}`),
  );
  expect(labels).toMatchObject(
    key.startsWith("manager") ? { role: "manager", "aws-swarm.gateway": "true" } : { pool: "app" },
  );
  expect(labels.az).toMatch(/^us-east-1[a-d]$/);
  expect(traffic.failed).toBe(0);
  // The old node's entry was removed, and no node is reported Down.
  expect((run.result.outputs.stackStatus as { down: unknown[] }).down).toEqual([]);
  return run;
}

describe("ha cluster: 3 managers over 3 AZs, 2 workers; any node can die", () => {
  let first: ClusterRun;
  let current: ClusterRun;

  beforeAll(async () => {
    // Six nodes; each replacement gets a fresh host when the engine creates it.
    await timed("ha: hosts up (6)", () => upHosts(6, HARNESS));
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
      expect(nodes).toHaveLength(6);
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
    const nodes = await loseUnderLoad(first, "manager-0", routesAvoiding(first, "manager-0"));
    expect(managerStatuses(nodes)).toEqual(["Leader", "Reachable", "Unreachable"]);
  });

  it("reports manager-0 as Down on the next preview (swarm.reportDownAfter 0), naming it and what to do; nothing runs", async () => {
    const preview = await timed("ha: preview with manager-0 Down", () =>
      upOnHarness(HARNESS, "ha", { ...ha, swarm: { ...ha.swarm, reportDownAfter: 0 } }, { mode: "preview" }),
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
    const run = await replaceUnderLoad(first, "manager-0", routesAvoiding(first, "manager-0"));
    // The managers' addresses changed: init re-runs, sees its swarm, and creates nothing.
    expect(run.result.plan.find((l) => l.name === "ha-init")!.op).toBe("update");
    expect(await (await fetch(`${(run.result.outputs.gatewayUrls as string[])[0]}/hello`)).text()).toContain(
      "service=hello ",
    );
    current = run;
  });

  it("loses manager-2 under load and replaces it the same way: no failed request, same swarm", async () => {
    const nodes = await loseUnderLoad(current, "manager-2", routesAvoiding(current, "manager-2"));
    expect(managerStatuses(nodes)).toEqual(["Leader", "Reachable", "Unreachable"]);
    current = await replaceUnderLoad(current, "manager-2", routesAvoiding(current, "manager-2"));
  });

  it("loses a worker under load: its hello task is rescheduled, no failed request; --replace brings it back", async () => {
    const lost = current.nodeHosts["app-1"];
    const survivor = current.nodeHosts["app-0"];
    // The scenario needs a hello task on each app node; the scheduler's spread is a preference, and
    // after the earlier losses both tasks can sit on one node (then every request fails, rightly).
    expect(await spreadOver(HARNESS, current.nodeHosts["manager-0"], "app_hello", [lost, survivor])).toEqual(
      [lost, survivor].sort(),
    );
    // ...and every gateway must route to both: a node's DNS view of fresh tasks lags by moments.
    for (const route of routesAvoiding(current)) {
      expect(await tasksBehind(route, 2)).toBe(2);
    }
    await loseUnderLoad(current, "app-1", routesAvoiding(current));
    // hello keeps 2 replicas (pool app): the one of the dead node starts again on app-0.
    const placed = await eventually(
      60,
      () => runningTasks(HARNESS, current.nodeHosts["manager-0"], "app_hello"),
      (nodes) => nodes.join() === [survivor, survivor].join(),
    );
    expect(placed).toEqual([survivor, survivor]);
    expect(placed).not.toContain(lost);
    current = await replaceUnderLoad(current, "app-1", routesAvoiding(current));
  });

  it("rotates the SSH key of the 3-manager cluster under load: no instance replaced, quorum kept, no failed request", async () => {
    const traffic = await underLoad(
      fetchRoundRobin(routesAvoiding(current)),
      () => timed("ha: SSH key rotation", () => upOnHarness(HARNESS, "ha", rotated)),
      { concurrency: 4 },
    );
    const run = traffic.result;
    console.log(`ha: requests during the key rotation: ${traffic.sent} sent, ${traffic.failed} failed`, traffic.errors);
    expect(changes(run.result.plan, "replace")).toEqual(["ha-ssh"]);
    expect(changes(run.result.plan, "create")).toEqual([]);
    expect(run.result.plan.filter((l) => l.type === "aws:ec2/instance:Instance" && l.op !== "same")).toEqual([]);
    expect(changes(run.result.plan, "update")).toEqual(
      expect.arrayContaining(Object.keys(run.nodeHosts).map((key) => `ha-authorize-${key}`)),
    );
    for (const host of hostsOf(run)) {
      const login = (key: string) =>
        sshRun({ host: host.publicIp, user: "root", privateKey: key, dialErrorLimit: 1 }, "true");
      expect((await login(KEY_B.sshPrivateKey)).code).toBe(0);
      expect((await login(KEY_A.sshPrivateKey)).stderr).toMatch(/Permission denied/);
    }
    expect(managerStatuses(await nodeList(run.nodeHosts["manager-1"]))).toEqual(["Leader", "Reachable", "Reachable"]);
    expect(traffic.failed).toBe(0);
    current = run;
  });

  it("refuses to change the managers' instance type in place: one warning per manager, one by one, nothing runs", async () => {
    const bigger = { ...rotated, managers: { ...rotated.managers, instanceType: "t3.large" } };
    const preview = await upOnHarness(HARNESS, "ha", bigger, { mode: "preview" });
    const warnings = preview.result.warnings.filter((w) => w.includes("the instance type is not changed by pulumi up"));
    expect(warnings.map((w) => /(manager-\d) \(/.exec(w)?.[1]).sort()).toEqual(MANAGERS);
    for (const warning of warnings) expect(warning).toContain("managers strictly one by one");
    expect(preview.result.plan.filter((l) => l.op !== "same")).toEqual([]);
    expect(preview.result.commandsRun).toBe(0);
  });

  it("autolock: a rebooted manager stays locked until the documented unlock, then is Reachable again", async () => {
    const host = current.nodeHosts["manager-1"];
    await fault(HARNESS, host, "reboot");
    const state = () => onHost(HARNESS, host, "docker info --format '{{.Swarm.LocalNodeState}}'").catch(() => "");
    expect(await eventually(60, state, (s) => s === "locked")).toBe("locked");
    // README, "When a node dies": `docker swarm unlock` with the key from swarmUnlockKey, on stdin.
    const key = String(current.result.outputs.swarmUnlockKey);
    expect(key).toMatch(/^SWMKEY-1-/);
    const unlock = await sshExec(readHosts(HARNESS), host, "docker swarm unlock", `${key}\n`);
    expect(unlock.code).toBe(0);
    const nodes = await eventually(
      60,
      () => nodeList(current.nodeHosts["manager-0"]).catch(() => []),
      (list) => managerStatuses(list).join() === "Leader,Reachable,Reachable",
    );
    expect(managerStatuses(nodes)).toEqual(["Leader", "Reachable", "Reachable"]);
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
