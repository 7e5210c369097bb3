import { z } from "zod";

// RFC 3339 date-time with up to nanosecond precision ("2025-10-25T18:00:32.123456789Z",
// "2025-10-25T18:00:32+00:00"). Kept as a string so nanoseconds survive a round trip.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

// The `time` crate's human-readable serde form ("2025-10-25 18:00:32.123456789 +00:00:00"),
// which the original emits when its `serde-human-readable` feature is on.
const TIME_CRATE_TEXT =
  /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,9})? ([+-])(\d{2}):(\d{2}):(\d{2})$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function validParts(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  // Second 60 is a leap second, which RFC 3339 allows.
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo) && h <= 23 && mi <= 59 && s <= 60;
}

/** True when `value` is an RFC 3339 date-time that names a real instant. */
export function isRfc3339(value: string): boolean {
  const m = RFC3339.exec(value);
  if (m === null) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (!validParts(y, mo, d, h, mi, s)) return false;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return false;
  }
  return true;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** Formats an instant (epoch milliseconds + extra nanoseconds) as RFC 3339 in UTC. */
function formatUtc(epochMs: number, nanos: number): string {
  const d = new Date(epochMs);
  const base =
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  if (nanos === 0) return `${base}Z`;
  return `${base}.${pad(nanos, 9).replace(/0+$/, "")}Z`;
}

/**
 * The `time` crate's default (non-human-readable) serde form of `OffsetDateTime`:
 * `[year, ordinal, hour, minute, second, nanosecond, offset_h, offset_m, offset_s]`.
 * The original declares `time` with only the `serde` feature and no `rfc3339` attribute on
 * `submitted_at`, so this is what serde_json writes for it; accepted and normalised to UTC.
 */
function fromTimeTuple(t: readonly number[]): string | undefined {
  const [year, ordinal, hour, minute, second, nanos, oh, om, os] = t as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const yearDays = daysInMonth(year, 2) === 29 ? 366 : 365;
  if (ordinal < 1 || ordinal > yearDays || hour > 23 || minute > 59 || second > 59) return undefined;
  if (nanos > 999_999_999 || Math.abs(oh) > 25 || Math.abs(om) > 59 || Math.abs(os) > 59) return undefined;
  const offsetMs = ((oh * 60 + om) * 60 + os) * 1000;
  const local = Date.UTC(year, 0, ordinal, hour, minute, second);
  return formatUtc(local - offsetMs, nanos);
}

function fromTimeText(value: string): string | undefined {
  const m = TIME_CRATE_TEXT.exec(value);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (!validParts(y, mo, d, h, mi, s) || s === 60) return undefined;
  const fraction = m[7] ?? "";
  const nanos = fraction === "" ? 0 : Number(fraction.slice(1).padEnd(9, "0"));
  const sign = m[8] === "-" ? -1 : 1;
  const offsetMs = sign * ((Number(m[9]) * 60 + Number(m[10])) * 60 + Number(m[11])) * 1000;
  return formatUtc(Date.UTC(y, mo - 1, d, h, mi, s) - offsetMs, nanos);
}

/**
 * An RFC 3339 timestamp string, as every Solstice message carries them. Written as produced
 * (nanoseconds and offset kept).
 */
export const Rfc3339Schema = z.string().refine(isRfc3339, {
  message: "expected an RFC 3339 date-time (e.g. 2025-10-25T18:00:32.123456789Z)",
});

/**
 * A timestamp as the original Rust services may have written it: RFC 3339, or the `time`
 * crate's serde forms (a 9-number tuple, or "YYYY-MM-DD hh:mm:ss.f +hh:mm:ss"). The latter two
 * are converted to RFC 3339 UTC, so the parsed value is always an RFC 3339 string.
 */
export const CompatTimestampSchema = z.unknown().transform((value, ctx): string => {
  let converted: string | undefined;
  if (typeof value === "string") converted = isRfc3339(value) ? value : fromTimeText(value);
  else if (Array.isArray(value) && value.length === 9 && value.every((n) => Number.isInteger(n))) {
    converted = fromTimeTuple(value as number[]);
  }
  if (converted === undefined) {
    ctx.addIssue({
      code: "custom",
      input: value,
      message: `expected an RFC 3339 date-time (e.g. 2025-10-25T18:00:32.123456789Z), got ${describe(value)}`,
    });
    return z.NEVER;
  }
  return converted;
});

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return "a string in another format";
  if (Array.isArray(value)) return "an array";
  return value === null ? "null" : typeof value;
}

/** Now, as RFC 3339 UTC (millisecond precision: what the JavaScript clock gives). */
export function nowRfc3339(): string {
  return new Date().toISOString();
}
