// The pure part of bench/github-logs: the audit of a sequence of `line N` lines (lost, repeated,
// out of place), the uploaded step log's lines with their timestamps, and the live feed's lines
// joined to those timestamps as latency samples (forgejo-logs' RowSample, summarised the same way).

import { lineNumber, type RowSample } from "../forgejo-logs/row-latency.ts";

/** What became of `line 1` … `line expected` in one place (step log, live feed, queue). */
export interface LineAudit {
  /** `line N` lines seen (N from 1 to expected), repeats included. */
  readonly received: number;
  /** Numbers never seen. */
  readonly lost: number;
  /** Lines seen again after their first time. */
  readonly duplicated: number;
  /** First sightings of a number below one seen before it. */
  readonly outOfOrder: number;
  /** `line N` lines with N outside 1 … expected. */
  readonly foreign: number;
  /** What went wrong (the lost lines, the first misplaced line); undefined when every line came once, in order. */
  readonly firstProblem: string | undefined;
}

/** Whether the audit found nothing wrong. */
export const auditClean = (audit: LineAudit): boolean => audit.firstProblem === undefined;

/** Audits the numbers of the `line N` lines in the order they came. */
export function auditLines(numbers: readonly number[], expected: number): LineAudit {
  const seen = new Uint8Array(expected + 1);
  let duplicated = 0;
  let outOfOrder = 0;
  let foreign = 0;
  let highest = 0;
  /** The first line repeated, out of place or foreign (a gap is told by the lost lines). */
  let misplaced: string | undefined;
  numbers.forEach((n, i) => {
    if (!Number.isInteger(n) || n < 1 || n > expected) {
      foreign += 1;
      misplaced ??= `line ${i + 1} is "line ${n}", outside 1-${expected}`;
    } else if (seen[n] === 1) {
      duplicated += 1;
      misplaced ??= `line ${i + 1} repeats "line ${n}"`;
    } else {
      seen[n] = 1;
      if (n < highest) {
        outOfOrder += 1;
        misplaced ??= `line ${i + 1} is "line ${n}", after "line ${highest}"`;
      }
      highest = Math.max(highest, n);
    }
  });
  let lost = 0;
  let lostFrom = 0;
  for (let n = 1; n <= expected; n += 1) {
    if (seen[n] === 0) {
      lost += 1;
      if (lostFrom === 0) lostFrom = n;
    }
  }
  const tail = lost === expected - lostFrom + 1;
  const missing =
    lost === 0
      ? undefined
      : `${lost} of ${expected} lines never came (${
          lostFrom === 1 && tail
            ? "all"
            : tail
              ? `"line ${lostFrom}" to the end`
              : `the first "line ${lostFrom}"`
        })`;
  const problems = [missing, misplaced].filter((p) => p !== undefined);
  return {
    received: numbers.length,
    lost,
    duplicated,
    outOfOrder,
    foreign,
    firstProblem: problems.length === 0 ? undefined : problems.join("; "),
  };
}

/** One line of an uploaded step log: `<timestamp with 7 decimals> <text>` (as the runner writes it). */
export interface StepLogLine {
  /** The timestamp (ms): the time of the job event the line came in. */
  readonly stampedAt: number;
  readonly text: string;
}

/** The lines of an uploaded step log, timestamp split off (NaN when a line has none). */
export function parseStepLog(log: string): StepLogLine[] {
  const lines = log.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((line) => {
    const space = line.indexOf(" ");
    return space === -1
      ? { stampedAt: Number.NaN, text: line }
      : { stampedAt: Date.parse(line.slice(0, space)), text: line.slice(space + 1) };
  });
}

/** The numbers of the `line N` lines among `texts`, in order. */
export function lineNumbers(texts: Iterable<string>): number[] {
  const out: number[] = [];
  for (const text of texts) {
    const n = lineNumber(text);
    if (n !== undefined) out.push(n);
  }
  return out;
}

/** A live feed line as the test server stored it. */
export interface FeedLine {
  readonly text: string;
  /** When its frame arrived (ms). */
  readonly receivedAt: number;
}

/**
 * Latency samples of the feed's `line N` lines: each line's timestamp in the step log (the job
 * event's time) to its frame's arrival. A line the step log lacks gives no sample (the step log's
 * audit counts it).
 */
export function feedSamples(feed: readonly FeedLine[], stepLog: readonly StepLogLine[]): RowSample[] {
  const stampOf = new Map<number, number>();
  for (const line of stepLog) {
    const n = lineNumber(line.text);
    if (n !== undefined && !stampOf.has(n)) stampOf.set(n, line.stampedAt);
  }
  const samples: RowSample[] = [];
  for (const line of feed) {
    const n = lineNumber(line.text);
    const stampedAt = n === undefined ? undefined : stampOf.get(n);
    if (n !== undefined && stampedAt !== undefined)
      samples.push({ n, stampedAt, arrivedAt: line.receivedAt });
  }
  return samples;
}

/** How the feed's frames came: how many, and in how many bursts (report rounds) how far apart. */
export interface FeedCadence {
  readonly frames: number;
  /** Runs of frames less than `gapMs` apart: one per report round that sent lines. */
  readonly bursts: number;
  /** Median time (s) from one burst's start to the next's. */
  readonly medianPeriod: number;
}

/** The cadence of the frames whose arrival times are `arrivals` (one per line, frames repeat it). */
export function feedCadence(arrivals: readonly number[], gapMs = 200): FeedCadence {
  const frames = [...new Set(arrivals)].sort((a, b) => a - b);
  const starts: number[] = [];
  let previous = Number.NEGATIVE_INFINITY;
  for (const at of frames) {
    if (at - previous >= gapMs) starts.push(at);
    previous = at;
  }
  const periods = starts
    .slice(1)
    .map((at, i) => (at - (starts[i] ?? at)) / 1000)
    .sort((a, b) => a - b);
  return {
    frames: frames.length,
    bursts: starts.length,
    medianPeriod: periods[Math.floor(periods.length / 2)] ?? Number.NaN,
  };
}
