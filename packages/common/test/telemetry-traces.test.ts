import { randomUUID } from "node:crypto";
import { context, trace } from "@opentelemetry/api";
import { ExportResultCode } from "@opentelemetry/core";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { eventually } from "@solstice/test-support";
import type { DestinationStream } from "pino";
import { afterAll, describe, expect, test } from "vitest";
import { SolsticeError } from "../src/errors.ts";
import { JOB_EVENT_SCHEMA_VERSION, type JobEvent } from "../src/messages/index.ts";
import { InProcessJobQueue } from "../src/mq/in-process-job-queue.ts";
import { eventHasSpans, isSpanless, SPANLESS_HEADER, spanHeaders } from "../src/mq/message-span-policy.ts";
import { initTelemetry } from "../src/telemetry/init-telemetry.ts";
import { inSpan, startSpan } from "../src/telemetry/job-spans.ts";
import { otlpSettings } from "../src/telemetry/otlp-settings.ts";
import { ReportingSpanExporter } from "../src/telemetry/reporting-exporter.ts";
import { runWithRequestId, traceLogFields } from "../src/telemetry/trace-log-fields.ts";
import { boundedShutdown } from "../src/telemetry/tracing.ts";

// Traces and logs (issue 16): the OTLP settings, the bounded messaging spans, log lines joined to
// their span, and a stop path telemetry never breaks. The end-to-end proof with real services is
// packages/forgejo-runner/test/forgejo-runner-traces.vm.test.ts.

function capture(): DestinationStream & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    write(line: string) {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
}

function recordingLogger() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message: string): void => {
      lines.push({ level, fields, message });
    };
  return { lines, logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") } };
}

describe("otlpSettings", () => {
  test.each([
    ["nothing set: no export", {}, undefined, undefined],
    [
      "the endpoint gets /v1/traces; protobuf by default",
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" },
      undefined,
      { tracesUrl: "http://collector:4318/v1/traces", protocol: "http/protobuf", batchDelayMs: 5000 },
    ],
    [
      "the --otlp flag wins over the env",
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" },
      "http://127.0.0.1:9/",
      { tracesUrl: "http://127.0.0.1:9/v1/traces", protocol: "http/json", batchDelayMs: 5000 },
    ],
    [
      "a traces endpoint is used as is; the traces protocol wins",
      {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://otel.example/custom",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf",
        OTEL_BSP_SCHEDULE_DELAY: "250",
      },
      undefined,
      { tracesUrl: "https://otel.example/custom", protocol: "http/protobuf", batchDelayMs: 250 },
    ],
  ])("%s", (_name, env, flag, expected) => {
    expect(otlpSettings(env, flag)).toEqual(expected);
  });

  test.each([
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
      "OTLP_PROTOCOL_UNSUPPORTED",
    ],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }, "OTLP_ENDPOINT_INVALID"],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: `http://c/${"x".repeat(3000)}` }, "OTLP_ENDPOINT_INVALID"],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_BSP_SCHEDULE_DELAY: "soon" },
      "OTLP_BATCH_DELAY_INVALID",
    ],
  ])("refuses %j with %s", (env, code) => {
    let thrown: unknown;
    try {
      otlpSettings(env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SolsticeError);
    expect((thrown as SolsticeError).code).toBe(code);
    expect((thrown as SolsticeError).hint).toEqual(expect.any(String));
  });
});

describe("messaging span policy", () => {
  test("log events travel spanless; the job's course has spans", () => {
    expect(eventHasSpans({ type: "log" })).toBe(false);
    for (const type of ["job_started", "step_started", "step_finished", "job_finished"] as const)
      expect(eventHasSpans({ type })).toBe(true);
    expect(isSpanless(spanHeaders(false))).toBe(true);
    expect(isSpanless(spanHeaders(true))).toBe(false);
    expect(isSpanless({ [SPANLESS_HEADER]: Buffer.from("1") })).toBe(true);
    expect(isSpanless(undefined)).toBe(false);
  });
});

describe("bounded shutdown", () => {
  test("a shutdown that hangs is given up after the timeout, and said", async () => {
    const { lines, logger } = recordingLogger();
    const started = Date.now();
    await boundedShutdown(() => new Promise<void>(() => undefined), 50, logger);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(lines.map((l) => l.message)).toEqual([expect.stringContaining("timed out")]);
  });

  test("a shutdown that rejects (or throws) does not reject; it is logged", async () => {
    const { lines, logger } = recordingLogger();
    await boundedShutdown(() => Promise.reject(new Error("collector gone")), 1_000, logger);
    await boundedShutdown(
      () => {
        throw new Error("sync failure");
      },
      1_000,
      logger,
    );
    expect(lines.map((l) => [l.level, (l.fields["err"] as Error).message])).toEqual([
      ["warn", "collector gone"],
      ["warn", "sync failure"],
    ]);
  });
});

describe("ReportingSpanExporter", () => {
  test("says a failing export once, and once when it works again", async () => {
    let fail = true;
    const inner: SpanExporter = {
      export: (_spans, done) =>
        done(
          fail
            ? { code: ExportResultCode.FAILED, error: new Error("ECONNREFUSED") }
            : { code: ExportResultCode.SUCCESS },
        ),
      shutdown: async () => undefined,
    };
    const { lines, logger } = recordingLogger();
    const exporter = new ReportingSpanExporter(inner, { logger, target: "http://c/v1/traces" });
    const results: number[] = [];
    const send = () => exporter.export([] as ReadableSpan[], (r) => results.push(r.code));
    for (let i = 0; i < 5; i++) send();
    expect(exporter.failing).toBe(true);
    fail = false;
    send();
    send();
    fail = true;
    send();
    expect(results).toHaveLength(8);
    expect(lines.map((l) => l.level)).toEqual(["warn", "info", "warn"]);
  });
});

describe("with the SDK", () => {
  const exporter = new InMemorySpanExporter();
  const out = capture();
  const telemetry = initTelemetry({
    serviceName: "solstice-test",
    serviceVersion: "1.2.3",
    hostId: "host-7",
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    logLevel: "info",
    logDestination: out,
    env: {},
  });
  afterAll(() => telemetry.shutdown());

  test("a line logged in a span carries its trace_id and span_id; outside, none", async () => {
    telemetry.logger.info("outside");
    const ids = await inSpan("work", {}, (span) => {
      telemetry.logger.info("inside");
      span.setAttributes({ n: 1 });
      return trace.getActiveSpan()?.spanContext();
    });
    const [outside, inside] = out.lines.slice(-2);
    expect(outside).not.toHaveProperty("trace_id");
    expect(outside).not.toHaveProperty("span_id");
    expect(inside).toMatchObject({ msg: "inside", trace_id: ids?.traceId, span_id: ids?.spanId });
    expect(inside?.["trace_id"]).toMatch(/^[0-9a-f]{32}$/);
  });

  test("a job's context gives every line request_id, across awaits and in child spans", async () => {
    await runWithRequestId("req-42", async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await inSpan("child", {}, async () => telemetry.logger.info("deep"));
    });
    expect(out.lines.at(-1)).toMatchObject({
      msg: "deep",
      request_id: "req-42",
      trace_id: expect.any(String),
    });
    expect(traceLogFields(context.active())).toEqual({});
  });

  test("spans carry the service's resource and end in error when their work throws", async () => {
    exporter.reset();
    await expect(
      inSpan("boom", { "solstice.label": "x", skipped: undefined }, async () => {
        throw new Error("no");
      }),
    ).rejects.toThrow("no");
    await expect(
      inSpan("checkout", {}, async () => {
        throw new Error("clone of https://oauth2:s3cret-token@forge.example/me/app failed");
      }),
    ).rejects.toThrow("s3cret-token");
    const span = startSpan("later", {}, { requestId: "req-9" });
    span.end();
    span.end(new Error("second end ignored"));
    const [boom, checkout, later] = exporter.getFinishedSpans();
    // What leaves the process never holds a URL's credentials.
    expect(checkout?.status.message).toBe("clone of https://***@forge.example/me/app failed");
    expect(JSON.stringify(checkout?.events)).not.toContain("s3cret-token");
    expect(JSON.stringify(checkout?.events)).toContain("https://***@forge.example");
    expect(boom?.status.code).toBe(2);
    expect(boom?.attributes).toEqual({ "solstice.label": "x" });
    expect(later?.status.code).toBe(0);
    expect(boom?.resource.attributes).toMatchObject({
      "service.name": "solstice-test",
      "service.version": "1.2.3",
      "host.id": "host-7",
    });
  });

  test("a 2,000-line job's events make spans for its course only, and its log lines still join the trace", async () => {
    exporter.reset();
    const queue = new InProcessJobQueue();
    const owner = { kind: "forgejo" as const, instance: `https://forge.example#${randomUUID()}` };
    const requestId = randomUUID();
    const handled: { type: string; traceId: string | undefined }[] = [];
    try {
      await queue.consumeEvents(owner, async (event) => {
        handled.push({ type: event.type, traceId: trace.getActiveSpan()?.spanContext().traceId });
      });
      const events: JobEvent[] = [];
      const base = {
        schema_version: JOB_EVENT_SCHEMA_VERSION,
        request_id: requestId,
        timestamp: new Date().toISOString(),
      } as const;
      let seq = 0;
      events.push({ ...base, seq: seq++, type: "job_started" });
      events.push({ ...base, seq: seq++, type: "step_started", step: 0, name: "build" });
      for (let i = 0; i < 2_000; i++)
        events.push({ ...base, seq: seq++, type: "log", step: 0, stream: "stdout", text: `line ${i}` });
      events.push({
        ...base,
        seq: seq++,
        type: "step_finished",
        step: 0,
        exit_code: 0,
        duration_ms: 1,
        conclusion: "success",
      });
      events.push({ ...base, seq: seq++, type: "job_finished", conclusion: "success" });
      const traceId = await inSpan("orchestrator job", {}, async () => {
        for (const event of events) await queue.publishEvent(event, { ...owner, task_id: "1" });
        return trace.getActiveSpan()?.spanContext().traceId;
      });
      await eventually("every event handled", () => handled.length === events.length);
      await eventually("the spans ended", () => exporter.getFinishedSpans().length >= 9);
      const names = exporter.getFinishedSpans().map((s) => s.name);
      // 4 lifecycle events × (publish + process), plus the job span: nothing per line.
      expect(names.filter((n) => n.startsWith("publish "))).toHaveLength(4);
      expect(names.filter((n) => n.startsWith("process "))).toHaveLength(4);
      expect(names).toHaveLength(9);
      for (const name of names) expect(name).not.toContain(owner.instance);
      // Spanless deliveries run in the publisher's context: their logs join the trace.
      expect(new Set(handled.map((h) => h.traceId))).toEqual(new Set([traceId]));
    } finally {
      await queue.close();
    }
  });
});
