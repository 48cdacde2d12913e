/**
 * The one duration grammar of the config (`swarm.certExpiry`): whole hours, minutes and seconds,
 * e.g. `2160h` or `90h30m`. scripts/swarm-init.sh's `duration_ns` reads the very same grammar
 * (test/scripts.test.ts runs it on a table and compares both), and Docker reads it as a Go duration.
 */
import { describe } from "./validator";

/** `h`/`m`/`s` parts with whole numbers, at least one; the shell function's `[[ =~ ]]` loop. */
const DURATION = /^([0-9]+[hms])+$/;
const UNIT_SECONDS: Record<string, bigint> = { h: 3600n, m: 60n, s: 1n };

/**
 * SwarmKit refuses node certificates valid for less than an hour (`ca.MinNodeCertExpiration`,
 * "minimum certificate expiry time is: 1h0m0s").
 */
export const MIN_CERT_EXPIRY_SECONDS = 3600n;
/**
 * Docker holds a duration as int64 nanoseconds, and SwarmKit's signing policy adds a 1h backdate
 * to the expiry (`ca.SigningPolicy`): anything above this wraps around to a negative validity.
 * Both sides stop here, so neither overflows: 2^63-1 ns is 9223372036.85 s.
 */
export const MAX_CERT_EXPIRY_SECONDS = 9223372036n - 3600n;

/** Seconds of a duration in the grammar above, or undefined when the text is not one. */
export function durationSeconds(text: string): bigint | undefined {
  if (!DURATION.test(text)) {
    return undefined;
  }
  let seconds = 0n;
  for (const [, amount, unit] of text.matchAll(/([0-9]+)([hms])/g)) {
    seconds += BigInt(amount) * UNIT_SECONDS[unit];
  }
  return seconds;
}

/** `seconds` written back in the grammar, largest units first (9223368436 → "2562046h47m16s"). */
export function formatDuration(seconds: bigint): string {
  const parts: [bigint, string][] = [
    [seconds / 3600n, "h"],
    [(seconds % 3600n) / 60n, "m"],
    [seconds % 60n, "s"],
  ];
  return parts.map(([n, unit]) => (n > 0n ? `${n}${unit}` : "")).join("") || "0s";
}

/**
 * Why `text` can't be a node certificate validity; undefined when it can. The messages follow the
 * key in a config problem.
 */
export function certExpiryProblem(text: string): string | undefined {
  const seconds = durationSeconds(text);
  if (seconds === undefined) {
    return `must be a Go duration such as 2160h or 720h30m, in whole hours (h), minutes (m) and seconds (s), got ${describe(text)}`;
  }
  if (seconds < MIN_CERT_EXPIRY_SECONDS) {
    return `must be at least 1h (Docker's minimum), got ${describe(text)}`;
  }
  if (seconds > MAX_CERT_EXPIRY_SECONDS) {
    return (
      `must be at most ${formatDuration(MAX_CERT_EXPIRY_SECONDS)} (Docker holds it in 64-bit nanoseconds ` +
      `and adds a 1h backdate), got ${describe(text)}`
    );
  }
  return undefined;
}
