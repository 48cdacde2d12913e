import { downNodes, nodeDownWarning, parseNodeHealth } from "../lib/nodeHealth";

// What node-health.sh printed on a 3-manager swarm with manager-0 powered off for 7 minutes and
// an old entry (a node no step removed) Down for 2 hours, a worker just rebooting.
const STDOUT = [
  "nodes 6",
  "n0m0 manager down 420 ip-10-0-1-10",
  "nold worker down 7300 ip-10-0-2-99",
  "nw1 worker down 12 ip-10-0-2-11",
  "nw2 worker unknown 900 ip-10-0-2-12",
].join("\n");
const KNOWN = {
  n0m0: { nodeKey: "manager-0", instanceId: "i-0aaa" },
  nw1: { nodeKey: "app-1", instanceId: "i-0bbb" },
};

describe("parseNodeHealth", () => {
  it("reads the node count and every node that is not Ready", () => {
    const health = parseNodeHealth(STDOUT)!;
    expect(health.nodes).toBe(6);
    expect(health.unready.map((n) => [n.id, n.role, n.status, n.seconds, n.hostname])).toEqual([
      ["n0m0", "manager", "down", 420, "ip-10-0-1-10"],
      ["nold", "worker", "down", 7300, "ip-10-0-2-99"],
      ["nw1", "worker", "down", 12, "ip-10-0-2-11"],
      ["nw2", "worker", "unknown", 900, "ip-10-0-2-12"],
    ]);
  });

  it("takes a swarm whose nodes are all Ready", () => {
    expect(parseNodeHealth("nodes 3\n")).toEqual({ nodes: 3, unready: [] });
  });

  it("says the health is unknown when no manager ran the script (empty stdout)", () => {
    expect(parseNodeHealth("")).toBeUndefined();
  });

  it("refuses a line it can't read instead of guessing", () => {
    expect(() => parseNodeHealth("nodes 2\nn1 worker down soon host")).toThrow(
      /unreadable line: 'n1 worker down soon host'/,
    );
  });
});

describe("downNodes", () => {
  const health = parseNodeHealth(STDOUT)!;

  it("keeps the nodes Down for at least the threshold, named by their node key", () => {
    const down = downNodes(health, 300, KNOWN);
    expect(down.map((n) => [n.id, n.nodeKey, n.instanceId])).toEqual([
      ["n0m0", "manager-0", "i-0aaa"],
      ["nold", undefined, undefined],
    ]);
  });

  it("reports every Down node with a threshold of 0, and none with a day", () => {
    expect(downNodes(health, 0, KNOWN).map((n) => n.id)).toEqual(["n0m0", "nold", "nw1"]);
    expect(downNodes(health, 86400, KNOWN)).toEqual([]);
  });
});

describe("nodeDownWarning", () => {
  const [manager, stale] = downNodes(parseNodeHealth(STDOUT)!, 300, KNOWN);

  it("names a configured node, its instance, the quorum risk of a manager and the replacement", () => {
    expect(nodeDownWarning(manager)).toBe(
      "manager-0 (i-0aaa, swarm node n0m0) has been Down for 7 min; while it is Down the swarm has one manager " +
        "fewer towards its raft quorum. If its instance is stopped, start it: the node rejoins by itself. If it is " +
        "gone or broken, replace it: pulumi refresh, then pulumi up --replace <the urn of manager-0's instance> " +
        '(README, "When a node dies").',
    );
  });

  it("tells how to remove an entry that belongs to no configured node", () => {
    expect(nodeDownWarning(stale)).toBe(
      "swarm node nold (ip-10-0-2-99, worker) has been Down for 2 h and is not a node of this stack: remove it " +
        "on a manager with 'docker node rm nold'",
    );
  });

  it("asks to demote a stale manager entry before removing it", () => {
    expect(nodeDownWarning({ ...stale, role: "manager" })).toContain("(demote it first: 'docker node demote nold')");
  });
});
