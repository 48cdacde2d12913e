/** IPv4 CIDR arithmetic for subnet planning and overlap checks. */

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  base: number;
  prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Parses "a.b.c.d/n"; returns undefined for anything else, including host bits set. */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (!match) {
    return undefined;
  }
  const octets = match[1].split(".");
  const prefix = Number(match[2]);
  if (octets.length !== 4 || !octets.every((o) => OCTET.test(o)) || prefix > 32) {
    return undefined;
  }
  const address = octets.reduce((acc, o) => acc * 256 + Number(o), 0);
  const base = address - (address % 2 ** (32 - prefix));
  return base === address ? { base, prefix } : undefined;
}

export function formatCidr(cidr: Cidr): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(cidr.base / 2 ** shift) % 256);
  return `${octets.join(".")}/${cidr.prefix}`;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const aEnd = a.base + 2 ** (32 - a.prefix);
  const bEnd = b.base + 2 ** (32 - b.prefix);
  return a.base < bEnd && b.base < aEnd;
}

/** The `index`-th block of size /`prefix` inside `parent`. */
export function subnetOf(parent: Cidr, prefix: number, index: number): Cidr {
  const count = 2 ** (prefix - parent.prefix);
  if (prefix < parent.prefix || index < 0 || index >= count) {
    throw new Error(`${formatCidr(parent)} has no subnet #${index} of size /${prefix}`);
  }
  return { base: parent.base + index * 2 ** (32 - prefix), prefix };
}

/** How many distinct addresses the ranges cover together (overlaps counted once). */
export function addressCount(ranges: readonly Cidr[]): number {
  const sorted = ranges
    .map((r) => ({ start: r.base, end: r.base + 2 ** (32 - r.prefix) }))
    .sort((a, b) => a.start - b.start);
  let count = 0;
  let reached = 0;
  for (const { start, end } of sorted) {
    count += Math.max(0, end - Math.max(start, reached));
    reached = Math.max(reached, end);
  }
  return count;
}
