/** A bounded request loop against the gateway, for "nothing failed while …" assertions. */
export interface LoadResult {
  sent: number;
  failed: number;
  failures: string[];
}

export interface Load {
  stop(): Promise<LoadResult>;
}

/**
 * Sends GET requests to `urls` round-robin, `concurrency` at a time, until stopped or until
 * `maxSeconds` have passed, whichever is first; only ever to the test hosts it is given.
 */
export function startLoad(urls: string[], concurrency = 4, maxSeconds = 300): Load {
  const result: LoadResult = { sent: 0, failed: 0, failures: [] };
  const deadline = Date.now() + maxSeconds * 1000;
  let stopped = false;
  const worker = async (offset: number) => {
    for (let i = offset; !stopped && Date.now() < deadline; i += concurrency) {
      const url = urls[i % urls.length];
      result.sent++;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        await response.text();
        if (response.status !== 200) {
          throw new Error(`HTTP ${response.status}`);
        }
      } catch (err) {
        result.failed++;
        if (result.failures.length < 10) {
          result.failures.push(`${url}: ${(err as Error).message}`);
        }
      }
    }
  };
  const workers = Array.from({ length: concurrency }, (_, i) => worker(i));
  return {
    async stop() {
      stopped = true;
      await Promise.all(workers);
      return result;
    },
  };
}
