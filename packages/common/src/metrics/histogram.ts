/** One histogram series: cumulative counts per upper bound, plus sum and count. */
export interface HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  /** Counts per bucket, cumulative, in the order of `buckets` (then +Inf = `count`). */
  readonly cumulative: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/**
 * A Prometheus-style histogram with labelled series, in memory.
 *
 * @example
 *   const h = new Histogram([1, 5, 10]);
 *   h.observe(3.2, { label: "ubuntu-24.04" });
 */
export class Histogram {
  /** Upper bounds, increasing. */
  readonly buckets: readonly number[];
  readonly #series = new Map<
    string,
    { labels: Record<string, string>; counts: number[]; sum: number; count: number }
  >();

  constructor(buckets: readonly number[]) {
    const sorted = [...buckets].sort((a, b) => a - b);
    if (sorted.length === 0 || sorted.some((b, i) => !Number.isFinite(b) || (i > 0 && b === sorted[i - 1]))) {
      throw new RangeError("Histogram: buckets must be finite, distinct and at least one");
    }
    this.buckets = sorted;
  }

  /**
   * Creates the series of `labels` with nothing observed yet, if it is missing: a series present
   * at zero from the start lets `rate()` and `histogram_quantile()` see its first observation.
   */
  declare(labels: Readonly<Record<string, string>> = {}): void {
    this.#seriesOf(labels);
  }

  /** Records one value (seconds, usually) in the series of `labels`. */
  observe(value: number, labels: Readonly<Record<string, string>> = {}): void {
    if (!Number.isFinite(value)) return;
    const s = this.#seriesOf(labels);
    const index = this.buckets.findIndex((b) => value <= b);
    if (index >= 0) s.counts[index] = (s.counts[index] ?? 0) + 1;
    s.sum += value;
    s.count += 1;
  }

  #seriesOf(labels: Readonly<Record<string, string>>): {
    labels: Record<string, string>;
    counts: number[];
    sum: number;
    count: number;
  } {
    const key = labelKey(labels);
    let s = this.#series.get(key);
    if (s === undefined) {
      s = { labels: { ...labels }, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    return s;
  }

  /** Every series, with cumulative bucket counts. */
  series(): HistogramSeries[] {
    return [...this.#series.values()].map((s) => {
      let running = 0;
      const cumulative = s.counts.map((c) => {
        running += c;
        return running;
      });
      return { labels: s.labels, cumulative, sum: s.sum, count: s.count };
    });
  }
}

/** One key per label set, whatever the order of its entries. */
export function labelKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
