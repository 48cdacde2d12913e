/**
 * Node loss made visible: scripts/node-health.sh lists the swarm's nodes that are not Ready, and
 * `pulumi up` warns about every one Down for longer than `swarm.reportDownAfter`, saying what to do
 * (README, "When a node dies"). A short outage (a reboot takes seconds) is not worth a warning,
 * hence the threshold.
 */

/** A swarm node whose status is not `ready`, as node-health.sh prints it. */
export interface UnreadyNode {
  id: string;
  role: string;
  /** Swarm's node status: `down`, `disconnected`, `unknown`. */
  status: string;
  /** Since the node object last changed: how long it has been in this status. */
  seconds: number;
  hostname: string;
}

export interface NodeHealth {
  /** Nodes in the swarm. */
  nodes: number;
  unready: UnreadyNode[];
}

/** Reads node-health.sh's stdout; undefined when no manager could run it (the step was skipped). */
export function parseNodeHealth(stdout: string): NodeHealth | undefined {
  const lines = stdout.split("\n").filter((line) => line.trim() !== "");
  const header = /^nodes (\d+)$/.exec(lines[0] ?? "");
  if (!header) {
    return undefined;
  }
  const unready = lines.slice(1).map((line) => {
    const [id, role, status, seconds, hostname = ""] = line.trim().split(/\s+/);
    if (!/^\d+$/.test(seconds ?? "")) {
      throw new Error(`node-health.sh printed an unreadable line: '${line}'`);
    }
    return { id, role, status, seconds: Number(seconds), hostname };
  });
  return { nodes: Number(header[1]), unready };
}

/** A node of the config, by swarm node id: what the warning names and what to replace. */
export interface KnownNode {
  nodeKey: string;
  instanceId: string;
}

/** A Down node worth reporting: the config's name for it when it has one. */
export interface DownNode extends UnreadyNode {
  nodeKey?: string;
  instanceId?: string;
}

/** The nodes Down for at least `after` seconds, named by their node key where the config has them. */
export function downNodes(health: NodeHealth, after: number, known: Record<string, KnownNode>): DownNode[] {
  return health.unready
    .filter((node) => node.status === "down" && node.seconds >= after)
    .map((node) => ({ ...node, ...known[node.id] }));
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h`;
}

/** What `pulumi up` says about a Down node. */
export function nodeDownWarning(node: DownNode): string {
  const since = `has been Down for ${duration(node.seconds)}`;
  if (node.nodeKey === undefined) {
    // No configured node has this id: an entry left by a node that no step removed.
    return (
      `swarm node ${node.id} (${node.hostname}, ${node.role}) ${since} and is not a node of this stack: ` +
      `remove it on a manager with 'docker node rm ${node.id}'` +
      (node.role === "manager" ? ` (demote it first: 'docker node demote ${node.id}')` : "")
    );
  }
  const managerNote =
    node.role === "manager" ? "; while it is Down the swarm has one manager fewer towards its raft quorum" : "";
  return (
    `${node.nodeKey} (${node.instanceId}, swarm node ${node.id}) ${since}${managerNote}. If its instance is ` +
    `stopped, start it: the node rejoins by itself. If it is gone or broken, replace it: pulumi refresh, then ` +
    `pulumi up --replace <the urn of ${node.nodeKey}'s instance> (README, "When a node dies").`
  );
}
