import * as fs from "fs";

/**
 * Watches every process command line on this machine (harness hosts share its PID namespace, so
 * this sees every process on every test host) until stopped, and returns the distinct ones that
 * matched. Polls /proc every 10 ms: a process that lives for a fraction of a second,
 * like a `docker swarm join --token …`, is still seen.
 */
export function watchCommandLines(pattern: RegExp, intervalMs = 10): { stop: () => string[]; polls: () => number } {
  const hits = new Set<string>();
  let count = 0;
  const poll = () => {
    count++;
    for (const pid of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      let line: string;
      try {
        line = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
      } catch {
        continue; // the process ended between the listing and the read
      }
      if (pattern.test(line)) hits.add(line);
    }
  };
  const timer = setInterval(poll, intervalMs);
  poll();
  return {
    stop: () => {
      clearInterval(timer);
      poll();
      return [...hits];
    },
    polls: () => count,
  };
}
