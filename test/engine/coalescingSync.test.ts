import { CoalescingSync } from "../program/coalescingSync";

/** An apply function whose syncs end only when the test says so. */
function controlled() {
  const started: { snapshot: number; finish: () => void; fail: (err: Error) => void }[] = [];
  const apply = (snapshot: number) =>
    new Promise<void>((resolve, reject) => started.push({ snapshot, finish: resolve, fail: reject }));
  return { started, sync: new CoalescingSync<number>(apply) };
}

const tick = () => new Promise((r) => setImmediate(r));

/** Which of the promises have resolved so far. */
function tracked(promises: Promise<void>[]) {
  const done = promises.map(() => false);
  promises.forEach((p, i) => p.then(() => (done[i] = true)).catch(() => undefined));
  return done;
}

describe("CoalescingSync", () => {
  test("an idle request syncs its own snapshot at once", async () => {
    const { started, sync } = controlled();
    const done = tracked([sync.request(1)]);
    await tick();
    expect(started.map((s) => s.snapshot)).toEqual([1]);
    started[0].finish();
    await tick();
    expect(done).toEqual([true]);
  });

  test("requests made during a sync share the next one, which applies only the latest snapshot", async () => {
    const { started, sync } = controlled();
    const promises = [sync.request(1), sync.request(2), sync.request(3), sync.request(4)];
    const done = tracked(promises);
    await tick();
    expect(started.map((s) => s.snapshot)).toEqual([1]);
    started[0].finish();
    await tick();
    // The first resolves with its own sync; the others wait for the next, of snapshot 4 only.
    expect(done).toEqual([true, false, false, false]);
    expect(started.map((s) => s.snapshot)).toEqual([1, 4]);
    started[1].finish();
    await tick();
    expect(done).toEqual([true, true, true, true]);
    expect(sync.syncs).toBe(2);
    expect(sync.requests).toBe(4);
  });

  test("a request never resolves before a sync that started after it has ended", async () => {
    const { started, sync } = controlled();
    const first = sync.request(1);
    await tick();
    const late = tracked([sync.request(2)]);
    started[0].finish();
    await first;
    await tick();
    expect(late).toEqual([false]);
    // A request during the second sync waits for a third.
    const later = tracked([sync.request(3)]);
    started[1].finish();
    await tick();
    expect(late).toEqual([true]);
    expect(later).toEqual([false]);
    expect(started.map((s) => s.snapshot)).toEqual([1, 2, 3]);
    started[2].finish();
    await tick();
    expect(later).toEqual([true]);
  });

  test("one sync at a time", async () => {
    let running = 0;
    let most = 0;
    const sync = new CoalescingSync<number>(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
    });
    const all: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      all.push(sync.request(i));
      if (i % 3 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(all);
    expect(most).toBe(1);
    expect(sync.syncs).toBeLessThan(20);
  });

  test("a failed sync rejects the requests that waited for it; the next sync still runs", async () => {
    const { started, sync } = controlled();
    const first = sync.request(1);
    const second = sync.request(2);
    await tick();
    started[0].fail(new Error("host gone"));
    await expect(first).rejects.toThrow("host gone");
    await tick();
    expect(started.map((s) => s.snapshot)).toEqual([1, 2]);
    started[1].finish();
    await expect(second).resolves.toBeUndefined();
  });

  test("an apply that throws at once rejects the request, not the caller", async () => {
    const sync = new CoalescingSync<number>(() => {
      throw new Error("bad rules");
    });
    const request = sync.request(1);
    await expect(request).rejects.toThrow("bad rules");
    await expect(sync.request(2)).rejects.toThrow("bad rules");
  });
});
