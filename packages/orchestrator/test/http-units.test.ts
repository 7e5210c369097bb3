import { describe, expect, test } from "vitest";
import { bearerTokenMatches } from "../src/http/bearer-auth.ts";
import { Histogram } from "../src/http/histogram.ts";
import { renderPrometheus } from "../src/http/prometheus-text.ts";
import { formatSse, SSE_KEEPALIVE } from "../src/http/server-sent-events.ts";
import { parseSse } from "./http-api-cases.ts";

describe("bearerTokenMatches", () => {
  const token = "s3cr3t-token-value-0123";
  test.each([
    [`Bearer ${token}`, true],
    [`bearer ${token}`, true],
    [`Bearer  ${token} `, true],
    [`Bearer ${token}x`, false],
    [`Bearer ${token.slice(1)}`, false],
    [`Basic ${token}`, false],
    [token, false],
    ["Bearer ", false],
    ["", false],
    [undefined, false],
    [`Bearer ${token} extra`, false],
  ])("%j → %s", (header, expected) => {
    expect(bearerTokenMatches(header, token)).toBe(expected);
  });
});

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

describe("server-sent events", () => {
  test.each([
    [{ data: "x" }, "data: x\n\n"],
    [{ id: 7, event: "log", data: '{"a":1}' }, 'id: 7\nevent: log\ndata: {"a":1}\n\n'],
    [{ data: "two\nlines\r\nthree" }, "data: two\ndata: lines\ndata: three\n\n"],
    [{ id: "a\nb", event: "e\rv", data: "" }, "id: ab\nevent: ev\ndata: \n\n"],
  ])("%j", (event, text) => {
    expect(formatSse(event)).toBe(text);
  });

  test("round trip through a parser, keep-alive comments ignored", () => {
    const body =
      formatSse({ id: 1, event: "log", data: "a\nb" }) +
      SSE_KEEPALIVE +
      formatSse({ event: "end", data: "{}" });
    expect(parseSse(body)).toEqual([
      { id: "1", event: "log", data: "a\nb" },
      { event: "end", data: "{}" },
    ]);
  });
});
