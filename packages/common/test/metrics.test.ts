import { describe, expect, test } from "vitest";
import { Counter, Histogram, renderPrometheus, watchQueueDiagnostics } from "../src/index.ts";
import { notifyDeadLettering, notifyPublishFailure } from "../src/mq/mq-diagnostics.ts";

describe("Histogram", () => {
  test("counts per bucket cumulatively, with sum and count per label set", () => {
    const h = new Histogram([10, 1, 5]);
    expect(h.buckets).toEqual([1, 5, 10]);
    for (const v of [0.5, 1, 3, 7, 100]) h.observe(v, { label: "a" });
    h.observe(2, { label: "b" });
    h.observe(Number.NaN, { label: "a" }); // ignored
    expect(h.series()).toEqual([
      { labels: { label: "a" }, cumulative: [2, 3, 4], sum: 111.5, count: 5 },
      { labels: { label: "b" }, cumulative: [0, 1, 1], sum: 2, count: 1 },
    ]);
  });

  test("the same labels in another order are the same series", () => {
    const h = new Histogram([1]);
    h.observe(1, { a: "1", b: "2" });
    h.observe(1, { b: "2", a: "1" });
    expect(h.series()).toHaveLength(1);
  });

  test.each([[[]], [[1, 1]], [[Number.POSITIVE_INFINITY]]])("refuses buckets %j", (buckets) => {
    expect(() => new Histogram(buckets)).toThrow(RangeError);
  });
});

describe("renderPrometheus", () => {
  test("gauges, counters and histograms in the text format, labels escaped", () => {
    const h = new Histogram([1, 2]);
    h.observe(1.5, { label: "x" });
    const text = renderPrometheus([
      {
        type: "gauge",
        name: "g",
        help: "A gauge\\with a\nnewline.",
        samples: [{ value: 1 }, { labels: { l: 'quote " back \\ nl \n' }, value: 2.5 }],
      },
      {
        type: "counter",
        name: "c_total",
        help: "A counter.",
        samples: [{ value: Number.POSITIVE_INFINITY }],
      },
      { type: "histogram", name: "h_seconds", help: "A histogram.", buckets: h.buckets, series: h.series() },
    ]);
    expect(text).toBe(
      [
        "# HELP g A gauge\\\\with a\\nnewline.",
        "# TYPE g gauge",
        "g 1",
        'g{l="quote \\" back \\\\ nl \\n"} 2.5',
        "# HELP c_total A counter.",
        "# TYPE c_total counter",
        "c_total +Inf",
        "# HELP h_seconds A histogram.",
        "# TYPE h_seconds histogram",
        'h_seconds_bucket{label="x",le="1"} 0',
        'h_seconds_bucket{label="x",le="2"} 1',
        'h_seconds_bucket{label="x",le="+Inf"} 1',
        'h_seconds_sum{label="x"} 1.5',
        'h_seconds_count{label="x"} 1',
        "",
      ].join("\n"),
    );
  });
});

describe("Histogram.declare", () => {
  test("a declared series is present at zero and then counts like any other", () => {
    const h = new Histogram([1, 2]);
    h.declare({ label: "a" });
    expect(h.series()).toEqual([{ labels: { label: "a" }, cumulative: [0, 0], sum: 0, count: 0 }]);
    h.observe(1.5, { label: "a" });
    h.declare({ label: "a" });
    expect(h.series()).toEqual([{ labels: { label: "a" }, cumulative: [0, 1], sum: 1.5, count: 1 }]);
  });
});

describe("Counter", () => {
  test("declared series start at zero; increments add up per label set, in any label order", () => {
    const c = new Counter();
    c.declare({ label: "b", conclusion: "failure" });
    c.inc({ label: "a", conclusion: "success" });
    c.inc({ conclusion: "success", label: "a" }, 2);
    expect(c.samples()).toEqual([
      { labels: { label: "a", conclusion: "success" }, value: 3 },
      { labels: { label: "b", conclusion: "failure" }, value: 0 },
    ]);
    expect(c.value({ label: "b", conclusion: "failure" })).toBe(0);
    expect(c.value({ label: "zz" })).toBe(0);
  });

  test.each([-1, Number.NaN, Number.POSITIVE_INFINITY])("refuses to add %d", (by) => {
    expect(() => new Counter().inc({}, by)).toThrow(RangeError);
  });
});

describe("watchQueueDiagnostics", () => {
  test("receives failed publishes and dead-letterings until unwatched", () => {
    const failures: unknown[] = [];
    const dead: unknown[] = [];
    const stop = watchQueueDiagnostics({
      publishFailed: (f) => failures.push(f),
      deadLettered: (d) => dead.push(d),
    });
    notifyPublishFailure({ exchange: "solstice.events" }, new Error("not confirmed"));
    notifyDeadLettering({ queue: "q", code: "MESSAGE_INVALID" });
    stop();
    notifyDeadLettering({ queue: "q", code: "MESSAGE_INVALID" });
    expect(failures).toEqual([{ exchange: "solstice.events", code: "HANDLER_FAILED" }]);
    expect(dead).toEqual([{ queue: "q", code: "MESSAGE_INVALID" }]);
  });
});
