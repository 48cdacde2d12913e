/**
 * A CPU cap for one process, as a Swarm task's `resources.limits.cpus` is (a CFS quota on its
 * cgroup): cgroup v1's `cpu` controller, else cgroup v2's `cpu.max`. Root only; where neither can
 * be written the caller is told why and runs without the cap.
 */
import * as fs from "fs";
import * as path from "path";

const PERIOD_US = 100_000;

function v1(name: string): { dir: string; write: (cpus: number) => void } | undefined {
  const root = "/sys/fs/cgroup/cpu";
  if (!fs.existsSync(path.join(root, "cpu.cfs_quota_us"))) return undefined;
  const dir = path.join(root, name);
  return {
    dir,
    write: (cpus) => {
      fs.writeFileSync(path.join(dir, "cpu.cfs_period_us"), String(PERIOD_US));
      fs.writeFileSync(path.join(dir, "cpu.cfs_quota_us"), String(Math.round(cpus * PERIOD_US)));
    },
  };
}

function v2(name: string): { dir: string; write: (cpus: number) => void } | undefined {
  const root = fs.existsSync("/sys/fs/cgroup/unified/cgroup.controllers") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
  const controllers = path.join(root, "cgroup.subtree_control");
  if (!fs.existsSync(controllers) || !fs.readFileSync(path.join(root, "cgroup.controllers"), "utf8").includes("cpu")) {
    return undefined;
  }
  const dir = path.join(root, name);
  return {
    dir,
    write: (cpus) => {
      if (!fs.readFileSync(controllers, "utf8").split(/\s+/).includes("cpu")) fs.writeFileSync(controllers, "+cpu");
      fs.writeFileSync(path.join(dir, "cpu.max"), `${Math.round(cpus * PERIOD_US)} ${PERIOD_US}`);
    },
  };
}

/**
 * Caps `pid` (every thread of it) at `cpus` cores. Returns a function that removes the
 * cgroup once the process has exited, or throws saying why the cap can't be set here.
 */
export function limitCpu(pid: number, cpus: number, name: string): () => void {
  if (process.getuid?.() !== 0 || process.platform !== "linux") throw new Error("needs Linux and root");
  const group = v1(name) ?? v2(name);
  if (group === undefined) throw new Error("no writable cgroup cpu controller (v1 or v2)");
  fs.mkdirSync(group.dir, { recursive: true });
  group.write(cpus);
  fs.writeFileSync(path.join(group.dir, "cgroup.procs"), String(pid));
  return () => {
    try {
      fs.rmdirSync(group.dir);
    } catch {
      // Still busy (the process outlived its kill) or already gone: nothing else uses the name.
    }
  };
}
