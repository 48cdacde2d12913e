/** Polls `probe` every `everyMs` until it gives a value (errors count as none); throws after `seconds`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  seconds = 20,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
