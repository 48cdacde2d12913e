/**
 * What the benches on harness hosts share: the dev config at a given app pool size, and hosts
 * brought up for one run and always taken down again. Linux and root only; run them under the
 * machine's cluster lock where others share the machine.
 */
import * as fs from "fs";
import * as path from "path";
import { downHosts, readHarnessInfo, stateDir, upHosts } from "../test/harness/hosts";
import { readStackConfig } from "../test/program/harnessRun";

const ROOT = path.resolve(__dirname, "..");

/** Pulumi.dev.yaml with its `app` pool at `workers` nodes (as the cluster tests read it). */
export function devConfigWithApp(workers: number): ReturnType<typeof readStackConfig> {
  const config = readStackConfig(path.join(ROOT, "Pulumi.dev.yaml"));
  config.workerPools = config.workerPools.map((pool: { name: string }) =>
    pool.name === "app" ? { ...pool, count: workers } : pool,
  );
  return config;
}

/**
 * Starts `nodes` hosts on harness `id`, runs `work` with how long they took to start, and takes
 * them down whatever happens. `label` prefixes the log lines.
 */
export async function withHarnessHosts<T>(
  id: number,
  nodes: number,
  label: string,
  log: (line: string) => void,
  work: (hostsUpMs: number, hostsStarted: number) => Promise<T>,
): Promise<T> {
  if (process.getuid?.() !== 0 || process.platform !== "linux") {
    throw new Error(`${label}: needs Linux and root (harness hosts)`);
  }
  // hosts.sh up clears a harness of the same id first: never take one that is someone else's.
  if (readHarnessInfo(id) || fs.existsSync(path.join(stateDir(id), "hosts.json"))) {
    throw new Error(`harness ${id} is up (${stateDir(id)}): choose a free one with --harness-id`);
  }
  log(`${label} (${nodes} nodes): starting the hosts (harness ${id}) …`);
  const hostsStarted = Date.now();
  try {
    await upHosts(nodes, id);
    return await work(Date.now() - hostsStarted, hostsStarted);
  } finally {
    await downHosts(id).catch((err) => log(`${label}: hosts.sh down failed: ${err}`));
  }
}
