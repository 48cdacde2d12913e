/** A service's tasks on a harness cluster: where they run, and spreading them over given nodes. */
import { onHost } from "../program/harnessRun";

/** Polls `read` every 2 s for up to `seconds` until `done` holds; returns the last value read. */
export async function eventually<T>(seconds: number, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000));
    value = await read();
  }
  return value;
}

/** The nodes (hostnames) of a service's running tasks, sorted. */
export async function runningTasks(id: number, manager: string, service: string): Promise<string[]> {
  const out = await onHost(
    id,
    manager,
    `docker service ps ${service} --filter desired-state=running --format '{{.Node}} {{.CurrentState}}'`,
  );
  return out
    .split("\n")
    .filter((line) => / Running /.test(`${line} `))
    .map((line) => line.split(" ")[0])
    .sort();
}

/**
 * Makes `service` run one task on each of `hosts`: when it doesn't, a forced stop-first update
 * reschedules its tasks one by one, each onto the node with fewest of them (spread), so they end
 * one per node; start-first would count the task being replaced and could tie. The update order is
 * then put back, which restarts nothing (it isn't part of the task spec). Returns the tasks' nodes.
 */
export async function spreadOver(id: number, manager: string, service: string, hosts: string[]): Promise<string[]> {
  const wanted = [...hosts].sort().join();
  if ((await runningTasks(id, manager, service)).join() !== wanted) {
    await onHost(id, manager, `docker service update --force --update-order stop-first --detach=false -q ${service}`);
    await onHost(id, manager, `docker service update --update-order start-first --detach=true -q ${service}`);
  }
  return eventually(
    120,
    () => runningTasks(id, manager, service),
    (nodes) => nodes.join() === wanted,
  );
}
