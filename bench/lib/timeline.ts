/**
 * The per-phase timeline of one `pulumi up`, from each resource's start and end as the engine
 * model records them (RecordedResource.startedAt/finishedAt, ms since the run began). Pure.
 */

/** Formation phases in the order they run. */
export const PHASES = [
  "infrastructure",
  "hosts",
  "hosts ready",
  "init",
  "tokens",
  "joins",
  "labels",
  "image build and push",
  "deploy and converge",
] as const;
export type Phase = (typeof PHASES)[number];

export interface TimedResource {
  type: string;
  name: string;
  startedAt: number;
  finishedAt?: number;
}

/** The phase a resource belongs to, from its type and its name without the cluster prefix. */
export function phaseOf(resource: TimedResource, cluster: string): Phase | undefined {
  const name = resource.name.startsWith(`${cluster}-`) ? resource.name.slice(cluster.length + 1) : resource.name;
  if (!resource.type.includes(":") || resource.type.startsWith("aws-swarm:")) return undefined; // components
  if (resource.type === "aws:ec2/instance:Instance" || resource.type === "aws:ec2/eip:Eip") return "hosts";
  if (resource.type === "docker:index/image:Image") return "image build and push";
  if (resource.type.startsWith("command:")) {
    if (/^(authorize|ready)-/.test(name)) return "hosts ready";
    if (name === "init") return "init";
    if (/^token-/.test(name)) return "tokens";
    if (/^join-/.test(name)) return "joins";
    if (/^member-/.test(name)) return "labels";
    return "deploy and converge";
  }
  if (resource.type === "aws:lb/targetGroupAttachment:TargetGroupAttachment") return "deploy and converge";
  return "infrastructure";
}

export interface PhaseSpan {
  phase: Phase;
  resources: number;
  /** First start and last end in the phase, ms since the run began. */
  startMs: number;
  endMs: number;
  /** Sum of the resources' own durations: above endMs - startMs when they overlap. */
  busyMs: number;
  /** The longest single resource of the phase. */
  longestMs: number;
  longest: string;
}

/** One span per phase that has resources, in PHASES order. Unfinished resources are left out. */
export function phaseTimeline(resources: readonly TimedResource[], cluster: string): PhaseSpan[] {
  const spans: PhaseSpan[] = [];
  for (const phase of PHASES) {
    const mine = resources.filter((r) => r.finishedAt !== undefined && phaseOf(r, cluster) === phase);
    if (mine.length === 0) continue;
    const longest = mine.reduce((a, b) => (b.finishedAt! - b.startedAt > a.finishedAt! - a.startedAt ? b : a));
    spans.push({
      phase,
      resources: mine.length,
      startMs: Math.min(...mine.map((r) => r.startedAt)),
      endMs: Math.max(...mine.map((r) => r.finishedAt!)),
      busyMs: mine.reduce((sum, r) => sum + (r.finishedAt! - r.startedAt), 0),
      longestMs: longest.finishedAt! - longest.startedAt,
      longest: longest.name,
    });
  }
  return spans;
}

/** Calls of one kind (e.g. `hosts.sh firewall`) during a run: how many, and their total and busiest time. */
export interface CallStats {
  calls: number;
  totalMs: number;
  /** Time with at least one call running: the calls' union on the clock. */
  wallMs: number;
}

/** Counts intervals [start, end] (any unit) and the clock time they cover together. */
export function callStats(intervals: readonly { start: number; end: number }[]): CallStats {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  let wall = 0;
  let reach = -Infinity;
  for (const { start, end } of sorted) {
    if (end <= reach) continue;
    wall += end - Math.max(start, reach);
    reach = end;
  }
  return {
    calls: sorted.length,
    totalMs: sorted.reduce((sum, i) => sum + (i.end - i.start), 0),
    wallMs: wall,
  };
}
