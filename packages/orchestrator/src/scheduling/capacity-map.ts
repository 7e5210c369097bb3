import { CapacityMapError } from "../errors.ts";

/**
 * Parses `CAPACITY_MAP` (`label=n,label=n`, the original's format) into per-label limits.
 * Blank entries (`a=1,,b=2`, a trailing comma) are ignored, as the original did; anything else
 * that is not `label=n` with n a positive integer, or a label given twice, is a
 * `CapacityMapError` naming the entry (the original dropped such entries silently).
 *
 * @example
 *   parseCapacityMap("illumos-latest=2, ubuntu-22.04=4") // Map { "illumos-latest" => 2, "ubuntu-22.04" => 4 }
 *   parseCapacityMap("ubuntu=0") // throws: CAPACITY_MAP entry 1 "ubuntu=0": capacity must be a positive integer
 */
export function parseCapacityMap(value: string | undefined): ReadonlyMap<string, number> {
  const limits = new Map<string, number>();
  if (value === undefined) return limits;
  const firstPosition = new Map<string, number>();
  const entries = value.split(",");
  for (const [index, raw] of entries.entries()) {
    const entry = raw.trim();
    if (entry === "") continue;
    const position = index + 1;
    const fail = (reason: string): never => {
      throw new CapacityMapError({ value, entry, position, reason });
    };
    const eq = entry.indexOf("=");
    if (eq < 0) fail('expected "label=n"');
    const label = entry.slice(0, eq).trim();
    const count = entry.slice(eq + 1).trim();
    if (label === "") fail("the label is empty");
    if (!/^\d+$/.test(count) || Number(count) < 1)
      fail(`capacity must be a positive integer, got "${count}"`);
    const n = Number(count);
    if (!Number.isSafeInteger(n)) fail(`capacity ${count} is too large`);
    const earlier = firstPosition.get(label);
    if (earlier !== undefined) fail(`label "${label}" is already given by entry ${earlier}`);
    firstPosition.set(label, position);
    limits.set(label, n);
  }
  return limits;
}

/** Formats limits back to `CAPACITY_MAP` syntax (labels sorted), e.g. for logs. */
export function formatCapacityMap(limits: ReadonlyMap<string, number>): string {
  return [...limits.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([label, n]) => `${label}=${n}`)
    .join(",");
}
