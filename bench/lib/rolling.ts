/** Reading a rolling update's figures from the engine's plan and the swarm's own accounts (pure). */
import { ServiceUpdate } from "./results";

/** The plan's changes as sorted `<op> <name>` lines (what `pulumi up` shows, unchanged ones left out). */
export function planChanges(plan: readonly { op: string; name: string }[]): string[] {
  return plan
    .filter((line) => line.op !== "same")
    .map((line) => `${line.op} ${line.name}`)
    .sort();
}

/**
 * Tasks replaced, by service: `before` and `after` are `docker service ps --filter
 * desired-state=running --format '{{.ID}} {{.Name}}'` outputs (`<id> app_hello.1`); a task of
 * `after` whose id `before` lacks is a new one.
 */
export function replacedTasks(before: string, after: string): Record<string, number> {
  const tasks = (out: string) =>
    out
      .split("\n")
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields.length === 2);
  const old = new Set(tasks(before).map(([id]) => id));
  const replaced: Record<string, number> = {};
  for (const [id, name] of tasks(after)) {
    const service = name.replace(/\.\d+$/, "");
    replaced[service] = (replaced[service] ?? 0) + (old.has(id) ? 0 : 1);
  }
  return replaced;
}

/**
 * Each service's update from `docker service inspect --format '{{.Spec.Name}} {{json
 * .UpdateStatus}}'` (one line a service; `null` for a service never updated), its times in ms
 * since `sinceMs` (the program's start in the second up), with the tasks `replaced` counted for it.
 */
export function serviceUpdates(inspect: string, replaced: Record<string, number>, sinceMs: number): ServiceUpdate[] {
  const at = (time: unknown) => {
    // Docker's zero time (0001-01-01) means "not yet".
    const ms = typeof time === "string" ? Date.parse(time) : NaN;
    return Number.isFinite(ms) && ms > 0 ? ms - sinceMs : undefined;
  };
  return inspect
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [service, ...json] = line.trim().split(" ");
      const status = JSON.parse(json.join(" ")) ?? {};
      return {
        service,
        replicas: replaced[service] ?? 0,
        state: status.State ?? "none",
        startMs: at(status.StartedAt),
        endMs: at(status.CompletedAt),
      };
    });
}
