import { labelKey } from "./histogram.ts";
import type { Sample } from "./prometheus-text.ts";

/**
 * A Prometheus-style counter with labelled series, in memory. Series can be declared at zero
 * before anything happens, so that `rate()` and `increase()` see the first increment (a series
 * that appears at 1 has no earlier sample to grow from).
 *
 * @example
 *   const c = new Counter();
 *   c.declare({ label: "ubuntu-24.04", conclusion: "failure" });
 *   c.inc({ label: "ubuntu-24.04", conclusion: "success" });
 *   c.samples(); // both series, sorted by labels
 */
export class Counter {
  readonly #series = new Map<string, { labels: Record<string, string>; value: number }>();

  /** Creates the series of `labels` at zero, if it is missing. */
  declare(labels: Readonly<Record<string, string>> = {}): void {
    this.inc(labels, 0);
  }

  /** Adds `by` (default 1, never negative: a counter only grows) to the series of `labels`. */
  inc(labels: Readonly<Record<string, string>> = {}, by = 1): void {
    if (!Number.isFinite(by) || by < 0) throw new RangeError(`Counter: cannot add ${by}`);
    const key = labelKey(labels);
    const s = this.#series.get(key);
    if (s === undefined) this.#series.set(key, { labels: { ...labels }, value: by });
    else s.value += by;
  }

  /** The value of the series of `labels` (0 when it does not exist). */
  value(labels: Readonly<Record<string, string>> = {}): number {
    return this.#series.get(labelKey(labels))?.value ?? 0;
  }

  /** Every series, sorted by their label values in the order given (a stable scrape). */
  samples(): Sample[] {
    return [...this.#series.values()]
      .map((s) => ({ key: Object.values(s.labels).join("\u0000"), s }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ s }) => ({ labels: s.labels, value: s.value }));
  }
}
