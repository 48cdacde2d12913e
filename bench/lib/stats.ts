/** Pure arithmetic for the benchmarks: percentiles, ratios, and reading `wrk --latency` output. */

/**
 * The p-th percentile (0-100) of `values` by linear interpolation between closest ranks (the
 * definition of numpy's default and of spreadsheet PERCENTILE.INC). Throws on an empty list.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error("percentile of no values");
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile must be 0-100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** `value / base`, or undefined when the base is zero or either side is missing. */
export function ratio(value: number | undefined, base: number | undefined): number | undefined {
  if (value === undefined || base === undefined || base === 0) return undefined;
  return value / base;
}

/** Rounds to `digits` significant decimals for display (and for stable JSON). */
export function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** A wrk duration ("812.00us", "1.23ms", "2.00s", "1.5m") in milliseconds. */
export function parseWrkDuration(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new Error(`not a wrk duration: ${JSON.stringify(text)}`);
  const scale: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60000, h: 3600000 };
  return Number(match[1]) * scale[match[2]];
}

export interface WrkResult {
  requests: number;
  requestsPerSec: number;
  p50Ms: number;
  p75Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Socket errors (connect, read, write, timeout) plus non-2xx/3xx responses. */
  errors: number;
}

/** Reads the summary `wrk --latency` prints. Throws when a figure is missing. */
export function parseWrkOutput(text: string): WrkResult {
  const need = (re: RegExp, what: string) => {
    const m = re.exec(text);
    if (!m) throw new Error(`wrk output has no ${what}:\n${text}`);
    return m;
  };
  const pct = (p: number) => parseWrkDuration(need(new RegExp(`^\\s*${p}%\\s+(\\S+)`, "m"), `${p}% latency`)[1]);
  let errors = 0;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  if (socket) errors += socket.slice(1).reduce((sum, n) => sum + Number(n), 0);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  if (non2xx) errors += Number(non2xx[1]);
  return {
    requests: Number(need(/^\s*(\d+) requests in /m, "request count")[1]),
    requestsPerSec: Number(need(/^Requests\/sec:\s+([\d.]+)/m, "Requests/sec")[1]),
    p50Ms: pct(50),
    p75Ms: pct(75),
    p90Ms: pct(90),
    p99Ms: pct(99),
    errors,
  };
}

/** CPU time (user + system) in milliseconds from the text of /proc/<pid>/stat. */
export function cpuMsFromProcStat(stat: string, clockTicksPerSec = 100): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its ")".
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[14 - 3]);
  const stime = Number(rest[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`not a /proc/<pid>/stat line: ${stat}`);
  return ((utime + stime) * 1000) / clockTicksPerSec;
}

/**
 * The median of each figure over several wrk runs (each figure on its own); requests and errors
 * are summed, since they count what all the runs did.
 */
export function medianWrk(runs: readonly WrkResult[]): WrkResult {
  if (runs.length === 0) throw new Error("median of no wrk runs");
  const of = (key: keyof WrkResult) => median(runs.map((r) => r[key]));
  return {
    requests: runs.reduce((sum, r) => sum + r.requests, 0),
    requestsPerSec: of("requestsPerSec"),
    p50Ms: of("p50Ms"),
    p75Ms: of("p75Ms"),
    p90Ms: of("p90Ms"),
    p99Ms: of("p99Ms"),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
  };
}
