import { trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { eventually } from "@solstice/test-support";
import type { DestinationStream } from "pino";
import { afterAll, describe, expect, test } from "vitest";
import { SolsticeError } from "../src/errors.ts";
import { newJobRequest } from "../src/messages/index.ts";
import { InProcessJobQueue } from "../src/mq/in-process-job-queue.ts";
import { initTelemetry } from "../src/telemetry/init-telemetry.ts";
import { createLogger, logLevelFromEnv } from "../src/telemetry/logger.ts";
import { SecretMasker } from "../src/telemetry/secret-masker.ts";
import { expectOneTrace, messageSpans } from "./telemetry-span-assertions.ts";

function capture(): DestinationStream & { lines: Record<string, unknown>[]; raw: string[] } {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  return {
    lines,
    raw,
    write(line: string) {
      raw.push(line);
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
}

describe("logger", () => {
  test("writes JSON lines with service, level name, ISO time and message", () => {
    const out = capture();
    const log = createLogger({ service: "solstice-orchestrator", destination: out, env: {} });
    log.info({ requestId: "r-1" }, "job accepted");
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatchObject({
      service: "solstice-orchestrator",
      level: "info",
      requestId: "r-1",
      msg: "job accepted",
    });
    expect(new Date(String(out.lines[0]?.["time"])).toISOString()).toBe(out.lines[0]?.["time"]);
  });

  test("takes its level from LOG_LEVEL, info by default, and refuses unknown levels", () => {
    expect(logLevelFromEnv({})).toBe("info");
    expect(logLevelFromEnv({ LOG_LEVEL: "DEBUG" })).toBe("debug");
    expect(() => logLevelFromEnv({ LOG_LEVEL: "loud" })).toThrow(SolsticeError);
    expect(() => logLevelFromEnv({ LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL="loud"/);

    const out = capture();
    const log = createLogger({ service: "s", destination: out, env: { LOG_LEVEL: "warn" } });
    log.info("hidden");
    log.warn("shown");
    expect(out.lines.map((l) => l["msg"])).toEqual(["shown"]);
  });

  test("an error quoting its cause says the cause's message once; a new one is still added", () => {
    const out = capture();
    const log = createLogger({ service: "s", destination: out, env: {} });
    const socket = new Error("connect ECONNREFUSED 127.0.0.1:5672");
    const wrapped = new SolsticeError("X_UNAVAILABLE", `broker: ${socket.message}`, { cause: socket });
    const outer = new SolsticeError("X_START", `queue: ${wrapped.message}`, { cause: wrapped });
    log.error({ err: outer }, "cannot start");
    const err = out.lines[0]?.["err"] as Record<string, unknown>;
    expect(err).toMatchObject({
      type: "SolsticeError",
      code: "X_START",
      message: "queue: broker: connect ECONNREFUSED 127.0.0.1:5672",
    });
    expect(out.raw[0]?.split("ECONNREFUSED")).toHaveLength(2);
    expect(String(err["stack"])).toMatch(/^SolsticeError\n {4}at /);
    expect(String(err["stack"])).toContain("\ncaused by: SolsticeError\n");
    expect(String(err["stack"])).toContain("\ncaused by: Error\n");

    const distinct = new Error("the database is read-only", { cause: new Error("disk full") });
    log.error({ err: distinct }, "cannot write");
    expect(out.lines[1]?.["err"]).toMatchObject({ message: "the database is read-only: disk full" });
  });

  test("redacts secret fields and masks registered secret values and URL passwords everywhere", () => {
    const out = capture();
    const masker = new SecretMasker();
    const log = createLogger({ service: "s", destination: out, masker, env: {} });
    masker.add("s3cr3t-token-value", 'multi\nline "quoted" secret');
    log.info(
      {
        password: "hunter2",
        auth: { token: "abc", authorization: "Bearer xyz" },
        job: { mask: ["s3cr3t-token-value"] },
        url: "amqp://guest:guest-password@broker:5672/%2f",
      },
      "using s3cr3t-token-value",
    );
    log.error({ err: new Error('failed with line "quoted" secret') }, "boom");
    const text = out.raw.join("");
    for (const leaked of [
      "hunter2",
      "abc",
      "Bearer xyz",
      "s3cr3t-token-value",
      "guest-password",
      '"quoted" secret',
    ]) {
      expect(text).not.toContain(leaked);
    }
    expect(out.lines[0]).toMatchObject({
      password: "***",
      auth: { token: "***" },
      url: "amqp://***@broker:5672/%2f",
    });
    expect(out.lines[0]?.["msg"]).toBe("using ***");
    expect(JSON.stringify(out.lines[1])).toContain("***");
  });
});

describe("tracing across the in-process queue", () => {
  const exporter = new InMemorySpanExporter();
  const telemetry = initTelemetry({
    serviceName: "solstice-test",
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    logLevel: "silent",
    env: {},
  });
  afterAll(() => telemetry.shutdown());

  test("no OTLP export without OTEL_EXPORTER_OTLP_ENDPOINT", () => {
    expect(telemetry.exporting).toBe(false);
  });

  test("a consumer span is a child of the publisher span: one job, one trace", async () => {
    const queue = new InProcessJobQueue();
    try {
      let inHandler: { traceId: string; spanId: string } | undefined;
      let traceparent: unknown;
      await queue.consumeJobs(async (_req, ctx) => {
        const active = trace.getActiveSpan()?.spanContext();
        inHandler = active === undefined ? undefined : { traceId: active.traceId, spanId: active.spanId };
        traceparent = ctx.headers["traceparent"];
      });
      const req = newJobRequest({ source: "manual", repo_url: "https://x/y.git", commit_sha: "abc" });
      const root = await telemetry.tracer.startActiveSpan("runner: accept task", async (span) => {
        await queue.publishJob(req);
        span.end();
        return span.spanContext();
      });
      await eventually(
        "the consumer span ends",
        () => messageSpans(exporter, req.request_id).consumer !== undefined,
      );
      expectOneTrace({
        exporter,
        messageId: req.request_id,
        root,
        inHandler,
        traceparent,
        serviceName: "solstice-test",
      });
    } finally {
      await queue.close();
    }
  });
});
