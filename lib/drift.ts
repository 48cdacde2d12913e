import { NodeRole } from "./types";

/**
 * What `pulumi up` says when a node's instance type differs from the config. The program never
 * changes it in place (`ignoreChanges`): EC2 stops and starts an instance to change its type, the
 * engine would do that to every node of a pool at once (an outage), and to every manager at once
 * (the raft quorum lost). New and replaced nodes get the configured type.
 */
export interface InstanceTypeDrift {
  nodeKey: string;
  role: NodeRole;
  actual: string;
  configured: string;
  /** The instance's URN, for `pulumi up --replace`. */
  urn: string;
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
    `${d.nodeKey} runs ${d.actual}, the config says ${d.configured}: the instance type is not changed in place ` +
    `(${why}). Roll the nodes ${order}: pulumi up --replace '${d.urn}', wait until 'docker node ls' shows the ` +
    `new node Ready, then the next.`
  );
}
