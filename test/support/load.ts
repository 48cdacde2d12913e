/** Steady request load while something happens, for "nothing failed while …" assertions. */
import * as https from "https";

export interface Reply {
  status: number;
  body: string;
}

export interface LoadReport<T> {
  result: T;
  sent: number;
  failed: number;
  /** Failure reason (`<status> <body start>` or the error) → count. */
  errors: Record<string, number>;
  /** `version=<v>` seen in successful bodies → count. */
  versions: Record<string, number>;
}

/**
 * Runs `concurrency` request loops while `during` runs and `tailMs` after it, bounded by `maxMs`
 * whatever happens. `request(n)` gets the request's sequence number (to round-robin over URLs);
 * it must only address loopback or the test hosts.
 */
export async function underLoad<T>(
  request: (n: number) => Promise<Reply>,
  during: () => Promise<T>,
  { concurrency = 8, tailMs = 0, maxMs = 300_000 } = {},
): Promise<LoadReport<T>> {
  let stop = false;
  const report = { sent: 0, failed: 0, errors: {} as Record<string, number>, versions: {} as Record<string, number> };
  const count = (table: Record<string, number>, key: string) => (table[key] = (table[key] ?? 0) + 1);
  const hardStop = setTimeout(() => (stop = true), maxMs);
  const worker = async () => {
    while (!stop) {
      const n = report.sent++;
      try {
        const reply = await request(n);
        if (reply.status !== 200) {
          report.failed++;
          count(report.errors, `${reply.status} ${reply.body.trim().slice(0, 60)}`);
        } else {
          count(report.versions, /version=(\S+)/.exec(reply.body)?.[1] ?? "?");
        }
      } catch (error) {
        report.failed++;
        count(report.errors, (error as Error).message.slice(0, 60));
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  let result: T;
  try {
    result = await during();
    await new Promise((r) => setTimeout(r, tailMs));
  } finally {
    stop = true;
    clearTimeout(hardStop);
    await Promise.all(workers);
  }
  return { result, ...report };
}

/** A request function over `urls`, round-robin, with fetch and a per-request timeout. */
export function fetchRoundRobin(urls: string[], timeoutMs = 10_000): (n: number) => Promise<Reply> {
  return async (n) => {
    const response = await fetch(urls[n % urls.length], { signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, body: await response.text() };
  };
}

/**
 * A request function over `https://<name>/…` URLs, round-robin, with keep-alive connections as a
 * browser or an HTTP client library keeps them (or a connection per request): `name` resolves to `address` (the harness has no
 * DNS for it) and the server's certificate is checked against `ca` and the name.
 */
export function fetchTlsRoundRobin(
  urls: string[],
  {
    ca,
    address,
    keepAlive = true,
    timeoutMs = 10_000,
  }: { ca: string; address: string; keepAlive?: boolean; timeoutMs?: number },
): (n: number) => Promise<Reply> {
  const agent = new https.Agent({ keepAlive, ca });
  const lookup = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) =>
    options.all ? callback(null, [{ address, family: 4 }]) : callback(null, address, 4)) as never;
  return (n) =>
    new Promise<Reply>((resolve, reject) => {
      const request = https.get(urls[n % urls.length], { agent, lookup, timeout: timeoutMs }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        response.on("error", reject);
      });
      request.on("timeout", () => request.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      request.on("error", reject);
    });
}
