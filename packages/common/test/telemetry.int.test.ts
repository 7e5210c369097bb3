import { trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { deleteMqByPrefix, eventually, mqPrefix, requireRabbitMQ } from "@solstice/test-support";
import { afterAll, beforeAll, describe, test } from "vitest";
import { newJobRequest } from "../src/messages/index.ts";
import { AmqpJobQueue } from "../src/mq/amqp-job-queue.ts";
import { initTelemetry } from "../src/telemetry/init-telemetry.ts";
import { uniqueMqConfig } from "./mq-test-support.ts";
import { expectOneTrace, messageSpans } from "./telemetry-span-assertions.ts";

const prefix = mqPrefix("telemetry");
const exporter = new InMemorySpanExporter();
const telemetry = initTelemetry({
  serviceName: "solstice-test",
  spanProcessors: [new SimpleSpanProcessor(exporter)],
  logLevel: "silent",
  env: {},
});

beforeAll(requireRabbitMQ);
afterAll(async () => {
  await telemetry.shutdown();
  await deleteMqByPrefix(prefix);
});

describe("tracing across RabbitMQ", () => {
  test("a consumer span is a child of the publisher span, through the AMQP traceparent header", async () => {
    const queue = await AmqpJobQueue.connect({ config: uniqueMqConfig(prefix) });
    try {
      let inHandler: { traceId: string; spanId: string } | undefined;
      let traceparent: unknown;
      await queue.consumeJobs(async (_req, ctx) => {
        const active = trace.getActiveSpan()?.spanContext();
        inHandler = active === undefined ? undefined : { traceId: active.traceId, spanId: active.spanId };
        traceparent = ctx.headers["traceparent"];
      });
      const req = newJobRequest({ source: "forgejo", repo_url: "https://x/y.git", commit_sha: "abc" });
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
