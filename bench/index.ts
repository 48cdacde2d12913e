/**
 * `npm run bench [-- --quick] [-- --only program|gateway]`: runs the benchmarks, prints every
 * figure as it goes, writes bench/results.json and regenerates docs/benchmarks.md and
 * docs/benchmarks.svg. Not part of `npm test`. See docs/benchmarks.md for what each one measures.
 */
import * as fs from "fs";
import * as path from "path";
import { benchGateway } from "./gateway";
import { machineFacts } from "./machine";
import { renderBenchmarksPage } from "./lib/markdown";
import { BenchResults, resourcesPerAddedWorker } from "./lib/results";
import { renderLineChart } from "./lib/svg";
import { evaluateProgram, MAX_WORKERS } from "./programEval";

const ROOT = path.resolve(__dirname, "..");
const RESULTS = path.join(ROOT, "bench", "results.json");
const PAGE = path.join(ROOT, "docs", "benchmarks.md");
const CHART = path.join(ROOT, "docs", "benchmarks.svg");

function log(line: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  const onlyAt = args.indexOf("--only");
  const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
  const unknown = args.filter((a, i) => a !== "--quick" && a !== "--only" && i !== onlyAt + 1);
  if (unknown.length > 0 || (only !== undefined && !["program", "gateway"].includes(only))) {
    throw new Error(`usage: npm run bench [-- --quick] [--only program|gateway]; got ${args.join(" ")}`);
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
  };

  if (only === undefined || only === "program") {
    for (const workers of quick ? [3, 30] : [3, 30, MAX_WORKERS]) {
      results.programEval.push(await evaluateProgram(workers, log));
    }
    for (const step of resourcesPerAddedWorker(results.programEval)) {
      log(`program eval: resources per added worker ${step.from}→${step.to}: ${step.perWorker}`);
    }
  }
  if (only === undefined || only === "gateway") {
    results.gateway = await benchGateway({
      connections: [8, 64],
      durationS: quick ? 3 : 5,
      rounds: quick ? 1 : 3,
      log,
    });
  }

  fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${path.relative(ROOT, RESULTS)}`);
  if (results.programEval.length > 0) {
    fs.writeFileSync(
      CHART,
      renderLineChart({
        title: "Program evaluation under offline mocks",
        xLabel: "workers (log scale)",
        yLabel: "seconds",
        logX: true,
        series: [
          { name: "wall time", points: results.programEval.map((r) => ({ x: r.workers, y: r.wallMs / 1000 })) },
          { name: "program time", points: results.programEval.map((r) => ({ x: r.workers, y: r.programMs / 1000 })) },
        ],
      }),
    );
    log(`wrote ${path.relative(ROOT, CHART)}`);
  }
  fs.writeFileSync(PAGE, renderBenchmarksPage(results, path.basename(CHART)));
  log(`wrote ${path.relative(ROOT, PAGE)}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
