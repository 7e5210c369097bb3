// The pure part of bench/forgejo-logs: which rows are the job's `line N` rows, the count and order
// check, and latency percentiles and rows per second over the rows of one or more runs.

/** One `line N` row as it arrived. */
export interface RowSample {
  /** N, from the row's text. */
  readonly n: number;
  /** The row's timestamp (ms): when the orchestrator read the line from the guest. */
  readonly stampedAt: number;
  /** When it arrived (ms): at the test server (UpdateLog) or at the bare queue consumer. */
  readonly arrivedAt: number;
}

/** Latency and throughput of a set of rows. */
export interface RowSummary {
  readonly rows: number;
  /** Seconds from a row's timestamp to its arrival. */
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  /** From the first row's timestamp to the last row's arrival. */
  readonly seconds: number;
  readonly rowsPerSecond: number;
}

const LINE = /^line (\d+)$/;

/** N of a `line N` row; undefined for any other row (step headers, the runner's own lines). */
export function lineNumber(text: string): number | undefined {
  const match = LINE.exec(text);
  return match === null ? undefined : Number(match[1]);
}

/** Why the bench fails: a row missing, repeated or out of place. */
export class RowOrderError extends Error {}

/** Checks that rows are exactly `line 1` … `line expected`, each once, in order. */
export function checkRows(what: string, samples: readonly RowSample[], expected: number): void {
  for (let i = 0; i < samples.length && i < expected; i += 1) {
    const n = samples[i]?.n;
    if (n !== i + 1)
      throw new RowOrderError(
        `${what}: row ${i + 1} of the step is "line ${n}", expected "line ${i + 1}" (${samples.length} line rows arrived)`,
      );
  }
  if (samples.length !== expected)
    throw new RowOrderError(`${what}: ${samples.length} line rows arrived, expected ${expected}`);
}

/** The value at percentile `p` (nearest rank) of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

/** Latency percentiles over every row of `runs`; rows/s over the summed duration of the runs. */
export function summarise(runs: readonly (readonly RowSample[])[]): RowSummary {
  const latencies: number[] = [];
  let seconds = 0;
  for (const samples of runs) {
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (const s of samples) {
      latencies.push((s.arrivedAt - s.stampedAt) / 1000);
      if (s.stampedAt < first) first = s.stampedAt;
      if (s.arrivedAt > last) last = s.arrivedAt;
    }
    if (samples.length > 0) seconds += (last - first) / 1000;
  }
  latencies.sort((a, b) => a - b);
  return {
    rows: latencies.length,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    max: latencies.at(-1) ?? Number.NaN,
    seconds,
    rowsPerSecond: latencies.length / seconds,
  };
}
