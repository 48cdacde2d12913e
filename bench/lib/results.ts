/** The shape of bench/results.json, and the figures derived from it (pure). */
import { ratio, WrkResult } from "./stats";
import { CallStats, PhaseSpan } from "./timeline";

export interface MachineFacts {
  cpus: number;
  cpuModel: string;
  memoryMb: number;
  kernel: string;
  node: string;
  haproxy: string;
  docker: string;
  wrk: string;
  python: string;
}

/** Benchmark 3: one run of index.ts under the offline mocks. */
export interface ProgramEvalRun {
  workers: number;
  /** The whole child process: Node start, TypeScript transpile, program, engine, result file. */
  wallMs: number;
  /** From the program's require to the engine's finish, as the child measures it. */
  programMs: number;
  /** Peak resident memory of the child process (getrusage ru_maxrss). */
  maxRssMb: number;
  resources: number;
  commands: number;
}

/** Benchmark 2: one backend at one concurrency, straight to it and through the gateway. */
export interface GatewayRun {
  backend: string;
  connections: number;
  /** Length of each wrk run. */
  durationS: number;
  /** Direct and gateway wrk runs alternate this many times; figures are medians over them. */
  rounds: number;
  /** Medians over the rounds, except requests and errors: totals. */
  direct: WrkResult;
  gateway: WrkResult;
  /** CPU time (user + system) the HAProxy gateway process used during all the gateway runs. */
  gatewayCpuMs: number;
  /** The same gateway with `gateway.accessLog: all` (absent in older results). */
  gatewayAllLogs?: WrkResult;
  gatewayAllLogsCpuMs?: number;
  /** Through the load balancer stand-in (PROXY v2, as the NLB), then the gateway (absent in older results). */
  viaLoadBalancer?: WrkResult;
}

/** Benchmark 1: one `pulumi up` of the dev config with N app workers on harness hosts. */
export interface FormationRun {
  /** When this size ran (ISO time): `--formation-workers` reruns some sizes and keeps the others. */
  ranAt?: string;
  workers: number;
  nodes: number;
  /** `hosts.sh up`: the hosts themselves (EC2's boot), before the program runs. */
  hostsUpMs: number;
  /** The program's `pulumi up`, as the child measures it. */
  upMs: number;
  resources: number;
  commands: number;
  phases: PhaseSpan[];
  /** hosts.sh calls the mocks made during the up, by verb (firewall, …). */
  hostsCalls: Record<string, CallStats>;
  /** Every SSH connection of the up (remote commands, any-manager.sh, authorize-key.sh); failed: exit ≠ 0. */
  ssh?: CallStats & { failed: number };
  /**
   * Resource names (a regular expression) whose steps the engine model ran one at a time
   * (`-join-`: the joins forced one at a time, to measure what parallel joins gain); absent: the
   * program's own concurrency.
   */
  oneAtATime?: string;
}

/** One service's rolling update, from `docker service inspect`'s UpdateStatus. */
export interface ServiceUpdate {
  service: string;
  /** Its tasks replaced by the update (running after it, not before). */
  replicas: number;
  /** UpdateStatus.State at the end: `completed`, or `rollback_completed`, `paused`, … */
  state: string;
  /** UpdateStatus.StartedAt and CompletedAt, in ms since the program started in the second `pulumi up` (upMs' start). */
  startMs?: number;
  endMs?: number;
}

/** Failures and answers of the requests sent during a run (test/support/load.ts's report). */
export interface LoadFigures {
  concurrency: number;
  /** The load went on this long after the run, to catch failures of its last steps. */
  tailMs: number;
  sent: number;
  failed: number;
  /** Reason (`<status> <body start>` or the error) → count. */
  errors: Record<string, number>;
  /** `version=<v>` in successful answers → count: the old build, then the new one. */
  versions: Record<string, number>;
}

/**
 * Benchmark 4: a day-2 `pulumi up` that rolls the sample's app services (a new build of their
 * image), on harness hosts already formed, with requests sent through the front door meanwhile.
 */
export interface RollingUpdateRun {
  ranAt: string;
  workers: number;
  nodes: number;
  /** What the second up changed. */
  change: string;
  /** The plan's changes (`<op> <name>`): only the image and the app stack's deploy. */
  plan: string[];
  /** The first `pulumi up` (setup, from empty state). */
  firstUpMs: number;
  /** The second `pulumi up`: build and push, deploy, and the rolling update to convergence. */
  upMs: number;
  /** Tasks replaced, all services together. */
  replicas: number;
  services: ServiceUpdate[];
  load: LoadFigures;
}

export interface BenchResults {
  generatedAt: string;
  quick: boolean;
  machine: MachineFacts;
  programEval: ProgramEvalRun[];
  gateway: GatewayRun[];
  formation: FormationRun[];
  /** The largest formation size again with the joins forced one at a time (full runs only). */
  formationSerialJoins?: FormationRun;
  /** Absent in results.json files older than this benchmark. */
  rollingUpdate?: RollingUpdateRun;
  /** Sections kept from an earlier run (`--only` reruns some sections), with that run's time. */
  keptFrom?: Record<string, string>;
}

export interface GatewaySummary {
  /** Gateway requests/s ÷ direct requests/s. */
  rpsRatio?: number;
  p50AddedMs: number;
  p99AddedMs: number;
  /** Gateway CPU per request, in microseconds. */
  cpuUsPerRequest?: number;
  /** The same with every request logged (`gateway.accessLog: all`). */
  cpuUsPerRequestAllLogs?: number;
  /** Requests/s through the load balancer stand-in and the gateway ÷ direct requests/s. */
  loadBalancerRatio?: number;
}

export function summariseGateway(run: GatewayRun): GatewaySummary {
  return {
    rpsRatio: ratio(run.gateway.requestsPerSec, run.direct.requestsPerSec),
    p50AddedMs: run.gateway.p50Ms - run.direct.p50Ms,
    p99AddedMs: run.gateway.p99Ms - run.direct.p99Ms,
    cpuUsPerRequest: perRequestUs(run.gatewayCpuMs, run.gateway),
    cpuUsPerRequestAllLogs: perRequestUs(run.gatewayAllLogsCpuMs, run.gatewayAllLogs),
    loadBalancerRatio: ratio(run.viaLoadBalancer?.requestsPerSec, run.direct.requestsPerSec),
  };
}

function perRequestUs(cpuMs: number | undefined, wrk: WrkResult | undefined): number | undefined {
  return cpuMs !== undefined && wrk !== undefined && wrk.requests > 0 ? (cpuMs * 1000) / wrk.requests : undefined;
}

/**
 * Resources each added worker brings, between consecutive runs (sorted by workers): one entry per
 * step, e.g. 3→30 and 30→300. Constant when the program's size is linear in the workers.
 */
export function resourcesPerAddedWorker(
  runs: readonly ProgramEvalRun[],
): { from: number; to: number; perWorker: number }[] {
  const sorted = [...runs].sort((a, b) => a.workers - b.workers);
  return sorted.slice(1).map((run, i) => ({
    from: sorted[i].workers,
    to: run.workers,
    perWorker: (run.resources - sorted[i].resources) / (run.workers - sorted[i].workers),
  }));
}

/**
 * Splits `workers` over `pools` worker pools as evenly as possible (earlier pools get the extra
 * one), so every size has the same pools and only the counts change. Pools may have count 0.
 */
export function splitWorkers(workers: number, pools: number): { name: string; count: number }[] {
  if (!Number.isInteger(workers) || workers < 0 || !Number.isInteger(pools) || pools < 1) {
    throw new Error(`cannot split ${workers} workers over ${pools} pools`);
  }
  return Array.from({ length: pools }, (_, i) => ({
    name: `app-${i + 1}`,
    count: Math.floor(workers / pools) + (i < workers % pools ? 1 : 0),
  }));
}

/**
 * What running the joins in parallel gains at one size: the joins phase (first join's start to
 * the last one's end) and the whole `pulumi up`, with the joins forced one at a time ÷ parallel.
 * Undefined when the runs are of different sizes or a run has no joins.
 */
export function joinsSpeedup(
  parallel: FormationRun,
  serial: FormationRun,
): { parallelJoinsMs: number; serialJoinsMs: number; joinsRatio: number; upRatio: number } | undefined {
  const joins = (run: FormationRun) => run.phases.find((p) => p.phase === "joins");
  const p = joins(parallel);
  const s = joins(serial);
  if (parallel.workers !== serial.workers || !p || !s || p.endMs <= p.startMs) return undefined;
  const parallelJoinsMs = p.endMs - p.startMs;
  const serialJoinsMs = s.endMs - s.startMs;
  return {
    parallelJoinsMs,
    serialJoinsMs,
    joinsRatio: serialJoinsMs / parallelJoinsMs,
    upRatio: serial.upMs / parallel.upMs,
  };
}

/**
 * Per-replica figures of a rolling update: the whole second up and each service's own update
 * (StartedAt → CompletedAt) divided by the tasks it replaced; undefined where nothing rolled or a
 * time is missing.
 */
export function perReplica(run: RollingUpdateRun): {
  upMsPerReplica?: number;
  services: { service: string; updateMs?: number; msPerReplica?: number }[];
} {
  const per = (ms: number | undefined, replicas: number) =>
    ms === undefined || replicas === 0 ? undefined : ms / replicas;
  return {
    upMsPerReplica: per(run.upMs, run.replicas),
    services: run.services.map((s) => {
      const updateMs = s.startMs === undefined || s.endMs === undefined ? undefined : s.endMs - s.startMs;
      return { service: s.service, updateMs, msPerReplica: per(updateMs, s.replicas) };
    }),
  };
}
