/**
 * `npm run bench [-- --quick] [--render] [--only program|gateway|formation|rolling[,…]] [--harness-id 6]
 * [--formation-workers 2,8]`: runs the benchmarks (a full run adds the largest formation size
 * again with the joins forced one at a time), prints every figure as it goes, writes
 * bench/results.json and regenerates docs/benchmarks.md and its SVG chart. Not part of
 * `npm test`. `--only` reruns some sections and keeps the others from the previous
 * bench/results.json. The formation and rolling-update benchmarks need Linux and root (harness
 * hosts); elsewhere they are skipped with a note.
 */
import * as fs from "fs";
import * as path from "path";
import { benchFormation } from "./formation";
import { benchGateway } from "./gateway";
import { machineFacts } from "./machine";
import { benchRollingUpdate } from "./rollingUpdate";
import { renderBenchmarksPage } from "./lib/markdown";
import { BenchResults, joinsSpeedup, resourcesPerAddedWorker } from "./lib/results";
import { renderLineChart, Series } from "./lib/svg";
import { evaluateProgram, MAX_WORKERS } from "./programEval";

const ROOT = path.resolve(__dirname, "..");
const RESULTS = path.join(ROOT, "bench", "results.json");
const PAGE = path.join(ROOT, "docs", "benchmarks.md");
const CHART = path.join(ROOT, "docs", "benchmarks.svg");
/** Hand-written findings, appended to the generated page. */
const NOTES = path.join(ROOT, "bench", "notes.md");
const SECTIONS = ["formation", "rolling", "gateway", "program"] as const;
type Section = (typeof SECTIONS)[number];

function log(line: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

function option(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  // --render: only regenerate the page and the chart from bench/results.json (e.g. after editing bench/notes.md).
  const renderOnly = args.includes("--render");
  const onlyOption = option(args, "--only");
  const only = onlyOption?.split(",") as Section[] | undefined;
  const harnessId = Number(option(args, "--harness-id") ?? "6");
  const workersOption = option(args, "--formation-workers");
  const known = new Set(
    ["--quick", "--render", "--only", "--harness-id", "--formation-workers"].flatMap((flag) => [
      flag,
      option(args, flag),
    ]),
  );
  if (args.some((a) => !known.has(a)) || (only !== undefined && only.some((s) => !SECTIONS.includes(s)))) {
    throw new Error(
      `usage: npm run bench [-- --quick] [--render] [--only ${SECTIONS.join("|")}[,…]] [--harness-id 0-9] [--formation-workers 2,8]; got ${args.join(" ")}`,
    );
  }
  const runs = (section: Section) => only === undefined || only.includes(section);

  if (renderOnly) {
    render(JSON.parse(fs.readFileSync(RESULTS, "utf8")));
    return;
  }
  const machine = machineFacts();
  log(
    `machine: ${machine.cpus} cores (${machine.cpuModel}), ${(machine.memoryMb / 1024).toFixed(1)} GiB, ` +
      `Linux ${machine.kernel}; Node.js ${machine.node}, HAProxy ${machine.haproxy}, Docker ${machine.docker}, ` +
      `wrk ${machine.wrk}, Python ${machine.python}${quick ? "; --quick" : ""}`,
  );
  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    quick,
    machine,
    programEval: [],
    gateway: [],
    formation: [],
  };
  if (only !== undefined && fs.existsSync(RESULTS)) {
    const previous: BenchResults = JSON.parse(fs.readFileSync(RESULTS, "utf8"));
    const keptFrom: Record<string, string> = {};
    const keep = (section: Section, has: boolean) => {
      if (!only.includes(section) && has) keptFrom[section] = previous.keptFrom?.[section] ?? previous.generatedAt;
    };
    results.programEval = previous.programEval ?? [];
    results.gateway = previous.gateway ?? [];
    results.formation = previous.formation ?? [];
    results.formationSerialJoins = previous.formationSerialJoins;
    results.rollingUpdate = previous.rollingUpdate;
    keep("program", results.programEval.length > 0);
    keep("gateway", results.gateway.length > 0);
    keep("formation", results.formation.length > 0);
    keep("rolling", results.rollingUpdate !== undefined);
    results.keptFrom = keptFrom;
  }

  if (runs("program")) {
    results.programEval = [];
    for (const workers of quick ? [3, 30] : [3, 30, MAX_WORKERS]) {
      results.programEval.push(await evaluateProgram(workers, log));
    }
    for (const step of resourcesPerAddedWorker(results.programEval)) {
      log(`program eval: resources per added worker ${step.from}→${step.to}: ${step.perWorker}`);
    }
  }
  if (runs("gateway")) {
    results.gateway = await benchGateway({
      connections: [8, 64],
      durationS: quick ? 3 : 5,
      rounds: quick ? 1 : 3,
      log,
    });
  }
  if (runs("formation")) {
    if (process.getuid?.() !== 0 || process.platform !== "linux") {
      log("formation: skipped (needs Linux and root for the harness hosts)");
    } else {
      // --formation-workers reruns those sizes only and keeps the earlier runs of the others.
      const sizes = workersOption ? workersOption.split(",").map(Number) : quick ? [2, 8] : [2, 8, 14];
      results.formation = workersOption ? results.formation.filter((r) => !sizes.includes(r.workers)) : [];
      // The joins forced one at a time, at the largest size (full runs only): an earlier such run
      // stays when --formation-workers did not rerun its size (its parallel counterpart stays too).
      const serialKept =
        workersOption !== undefined &&
        results.formationSerialJoins !== undefined &&
        !sizes.includes(results.formationSerialJoins.workers);
      if (!serialKept) results.formationSerialJoins = undefined;
      try {
        for (const workers of sizes) {
          results.formation.push(await benchFormation(workers, harnessId, log));
        }
        results.formation.sort((a, b) => a.workers - b.workers);
        if (!quick && !serialKept) {
          const largest = Math.max(...sizes);
          results.formationSerialJoins = await benchFormation(largest, harnessId, log, { oneAtATime: "-join-" });
          const parallel = results.formation.find((r) => r.workers === largest)!;
          const gain = joinsSpeedup(parallel, results.formationSerialJoins);
          if (gain) {
            log(
              `formation: ${largest} workers: joins ${(gain.parallelJoinsMs / 1000).toFixed(1)} s in parallel, ` +
                `${(gain.serialJoinsMs / 1000).toFixed(1)} s one at a time: ${gain.joinsRatio.toFixed(2)}× ` +
                `(pulumi up ${gain.upRatio.toFixed(2)}×)`,
            );
          }
        }
      } catch (err) {
        // The other sections are still written; the run fails at the end.
        log(`formation: failed: ${err instanceof Error ? err.message : err}`);
        process.exitCode = 1;
      }
    }
  }

  if (runs("rolling")) {
    results.rollingUpdate = undefined;
    if (process.getuid?.() !== 0 || process.platform !== "linux") {
      log("rolling: skipped (needs Linux and root for the harness hosts)");
    } else {
      try {
        results.rollingUpdate = await benchRollingUpdate(harnessId, log);
      } catch (err) {
        // As for formation: the other sections are still written; the run fails at the end.
        log(`rolling: failed: ${err instanceof Error ? err.message : err}`);
        process.exitCode = 1;
      }
    }
  }

  fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${path.relative(ROOT, RESULTS)}`);
  render(results);
}

/** docs/benchmarks.svg and docs/benchmarks.md from the results (and bench/notes.md). */
function render(results: BenchResults): void {
  const series: Series[] = [];
  if (results.formation.length > 0) {
    series.push({
      name: "formation: pulumi up on the harness",
      points: results.formation.map((r) => ({ x: r.workers, y: r.upMs / 1000 })),
    });
  }
  if (results.programEval.length > 0) {
    series.push({
      name: "program under offline mocks (wall)",
      points: results.programEval.map((r) => ({ x: r.workers, y: r.wallMs / 1000 })),
    });
  }
  if (series.length > 0) {
    fs.writeFileSync(
      CHART,
      renderLineChart({
        title: "Time vs workers",
        xLabel: "workers (log scale)",
        yLabel: "seconds",
        logX: true,
        series,
      }),
    );
    log(`wrote ${path.relative(ROOT, CHART)}`);
  }
  fs.writeFileSync(
    PAGE,
    renderBenchmarksPage(
      results,
      path.basename(CHART),
      fs.existsSync(NOTES) ? fs.readFileSync(NOTES, "utf8") : undefined,
    ),
  );
  log(`wrote ${path.relative(ROOT, PAGE)}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
