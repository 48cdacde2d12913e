/**
 * Benchmark 1: the whole `pulumi up` of the dev config (1 manager, the 1-node `infra` pool, the
 * `app` pool of N workers, the three-service stack) on harness hosts, with a per-phase timeline
 * from each resource's start and end, and every `hosts.sh` call the mocks make (security groups
 * become packet filters) and every SSH connection counted and timed. Linux and root only; brings hosts up and
 * takes them down again. Run it under the machine's cluster lock where others share the machine.
 *
 * The hosts.sh calls are seen from outside, without touching the harness: test/harness/hosts.ts
 * runs `bash <dir>/hosts.sh <verb> …` through PATH, so a `bash` earlier on PATH logs each call
 * (verb, start, end) and hands over to the real one; an `ssh` there likewise logs every SSH
 * connection (the mocks' remote commands, any-manager.sh's and authorize-key.sh's). With
 * BENCH_FORMATION_RESOURCES=<prefix>, each run also writes every resource's start and end, and
 * every call, to <prefix>-<workers>[-serial].json.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { nodeKeysOf, upOnHarness } from "../test/program/harnessRun";
import { devConfigWithApp, withHarnessHosts } from "./harness";
import { FormationRun } from "./lib/results";
import { callStats, phaseTimeline } from "./lib/timeline";

const WRAPPER = `#!/bin/sh
case "$1" in
  */hosts.sh)
    start=$(date +%s%N)
    /bin/bash "$@"
    rc=$?
    echo "$2 $start $(date +%s%N) $rc" >>"$BENCH_HOSTS_LOG"
    exit $rc
    ;;
esac
exec /bin/bash "$@"
`;

/** Every ssh the run makes (the mocks' remote commands, the local scripts' own): its destination and exit code. */
const SSH_WRAPPER = `#!/bin/sh
start=$(date +%s%N)
/usr/bin/ssh "$@"
rc=$?
dest=""
for a in "$@"; do case $a in *@*) dest=\${a#*@}; break ;; esac; done
echo "$start $(date +%s%N) $rc $dest" >>"$BENCH_SSH_LOG"
exit $rc
`;

export interface FormationOptions {
  /**
   * Resource names (a regular expression) whose steps the engine model runs one at a time, like
   * `pulumi up --parallel 1` for them only: `-join-` forces the joins one at a time.
   */
  oneAtATime?: string;
}

export async function benchFormation(
  workers: number,
  id: number,
  log: (line: string) => void,
  options: FormationOptions = {},
): Promise<FormationRun> {
  const config = devConfigWithApp(workers);
  const nodes = nodeKeysOf(config).length;
  const label =
    options.oneAtATime === undefined
      ? `${workers} workers`
      : `${workers} workers, /${options.oneAtATime}/ one at a time`;
  return withHarnessHosts(id, nodes, `formation: ${label}`, log, async (hostsUpMs, hostsStarted) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-bench-formation-"));
    const callLog = path.join(dir, "hosts-calls.log");
    const sshLog = path.join(dir, "ssh-calls.log");
    fs.writeFileSync(path.join(dir, "bash"), WRAPPER, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "ssh"), SSH_WRAPPER, { mode: 0o755 });
    const savedPath = process.env.PATH;
    try {
      fs.writeFileSync(callLog, "");
      fs.writeFileSync(sshLog, "");
      process.env.PATH = `${dir}:${savedPath}`;
      process.env.BENCH_HOSTS_LOG = callLog;
      process.env.BENCH_SSH_LOG = sshLog;
      const { result } = await upOnHarness(id, "dev", config, { oneAtATime: options.oneAtATime });
      process.env.PATH = savedPath;
      const calls = new Map<string, { start: number; end: number }[]>();
      for (const line of fs.readFileSync(callLog, "utf8").split("\n").filter(Boolean)) {
        const [verb, start, end] = line.split(" ");
        const list = calls.get(verb) ?? [];
        list.push({ start: Number(start) / 1e6, end: Number(end) / 1e6 });
        calls.set(verb, list);
      }
      const sshCalls = fs
        .readFileSync(sshLog, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const [start, end, code, host] = line.split(" ");
          return { start: Number(start) / 1e6, end: Number(end) / 1e6, code: Number(code), host };
        });
      if (process.env.BENCH_FORMATION_RESOURCES) {
        // Every resource's own start and end, for a closer look than the phases (not in results.json).
        const file = `${process.env.BENCH_FORMATION_RESOURCES}-${workers}${options.oneAtATime === undefined ? "" : "-serial"}.json`;
        const rows = result.resources.map(({ type, name, startedAt, finishedAt, state }) => ({
          type,
          name,
          startedAt,
          finishedAt,
          // The scripts' progress messages (never a secret: the scripts mask tokens).
          stderr: typeof state?.stderr === "string" ? state.stderr : undefined,
        }));
        fs.writeFileSync(file, `${JSON.stringify({ resources: rows, hostsCalls: [...calls], sshCalls }, null, 1)}\n`);
        log(`formation: ${label}: resources' start and end written to ${file}`);
      }
      const run: FormationRun = {
        ranAt: new Date(hostsStarted).toISOString(),
        workers,
        nodes,
        hostsUpMs,
        upMs: result.durationMs,
        resources: result.resources.length,
        commands: result.commandsRun,
        phases: phaseTimeline(result.resources, "dev"),
        hostsCalls: Object.fromEntries([...calls].map(([verb, list]) => [verb, callStats(list)])),
        ssh: { ...callStats(sshCalls), failed: sshCalls.filter((c) => c.code !== 0).length },
        ...(options.oneAtATime === undefined ? {} : { oneAtATime: options.oneAtATime }),
      };
      log(
        `formation: ${label}: hosts up ${(hostsUpMs / 1000).toFixed(1)} s, pulumi up ${(run.upMs / 1000).toFixed(1)} s, ` +
          `${run.resources} resources, ${run.commands} remote commands`,
      );
      for (const p of run.phases) {
        log(
          `formation: ${label}: ${p.phase.padEnd(22)} ${(p.startMs / 1000).toFixed(1).padStart(6)} → ` +
            `${(p.endMs / 1000).toFixed(1).padStart(6)} s  (${p.resources} resources, longest ${(p.longestMs / 1000).toFixed(1)} s: ${p.longest})`,
        );
      }
      log(
        `formation: ${label}: ssh: ${run.ssh!.calls} connections (${run.ssh!.failed} failed), ` +
          `${(run.ssh!.totalMs / 1000).toFixed(1)} s in all, ${(run.ssh!.wallMs / 1000).toFixed(1)} s of the clock`,
      );
      for (const [verb, s] of Object.entries(run.hostsCalls)) {
        log(
          `formation: ${label}: hosts.sh ${verb}: ${s.calls} calls, ${(s.totalMs / 1000).toFixed(1)} s in all, ` +
            `${(s.wallMs / 1000).toFixed(1)} s of the clock`,
        );
      }
      return run;
    } finally {
      process.env.PATH = savedPath;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
