import { NodeRole } from "./types";

/**
 * What `pulumi up` says when a node's instance type differs from the config. The program never
 * changes it (`ignoreChanges`): EC2 stops and starts an instance to change its type, and the
 * engine would do that to every node of a pool at once (an outage), to every manager at once (the
 * raft quorum lost). `pulumi up --replace` doesn't help either: Pulumi keeps an ignored property's
 * recorded value for a replacement too. New nodes get the configured type; existing ones are
 * rolled by hand, one at a time (README, "Changing an instance type").
 */
export interface InstanceTypeDrift {
  nodeKey: string;
  role: NodeRole;
  actual: string;
  configured: string;
  instanceId: string;
}

export function instanceTypeWarning(d: InstanceTypeDrift): string | undefined {
  if (d.actual === d.configured) {
    return undefined;
  }
  const why =
    d.role === "manager"
      ? "every manager would stop at once and the swarm would lose its raft quorum"
      : "every node of the pool would stop at once";
  const order = d.role === "manager" ? "managers strictly one by one" : "one node at a time";
  return (
    `${d.nodeKey} (${d.instanceId}) runs ${d.actual}, the config says ${d.configured}: the instance type is not ` +
    `changed by pulumi up (${why}). Roll the nodes ${order} as the README says ("Changing an instance type": ` +
    `drain, stop, modify, start, activate), then pulumi refresh.`
  );
}
