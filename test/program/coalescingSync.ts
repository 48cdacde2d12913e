/**
 * Latest-wins syncing of a snapshot to the outside world, one sync at a time, as the mocks bring
 * the packet filters in line with the security groups after each engine step.
 *
 * - Idle: a request starts a sync of its snapshot at once.
 * - A sync running: the request waits for the NEXT sync, which starts when the running one ends and
 *   applies the LATEST snapshot requested meanwhile; every request that waited shares it.
 *
 * So when a request's promise resolves, a sync of a snapshot at least as new as its own, started
 * after it was made, has completed; when that sync fails, the promise rejects with its error (the
 * next sync still runs for the requests after it).
 */
export class CoalescingSync<T> {
  /** Syncs run so far (started), for the record: fewer than requests when steps overlap. */
  public syncs = 0;
  public requests = 0;
  private running = false;
  private next?: { snapshot: T; promise: Promise<void>; settle: (run: Promise<void>) => void };

  constructor(private readonly apply: (snapshot: T) => Promise<void>) {}

  request(snapshot: T): Promise<void> {
    this.requests++;
    if (!this.running) return this.start(snapshot);
    if (this.next) {
      this.next.snapshot = snapshot;
      return this.next.promise;
    }
    let settle!: (run: Promise<void>) => void;
    const promise = new Promise<void>((resolve, reject) => {
      settle = (run) => run.then(resolve, reject);
    });
    this.next = { snapshot, promise, settle };
    return promise;
  }

  private start(snapshot: T): Promise<void> {
    this.running = true;
    this.syncs++;
    // An apply that throws before its first await still rejects the promise, never the caller.
    const run = Promise.resolve().then(() => this.apply(snapshot));
    const done = () => {
      this.running = false;
      const waiting = this.next;
      this.next = undefined;
      if (waiting) waiting.settle(this.start(waiting.snapshot));
    };
    run.then(done, done);
    return run;
  }
}
