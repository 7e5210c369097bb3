import { AmqpJobQueue, mqConfigEnv, type Subscription } from "@solstice/common";
import {
  deleteMqByPrefix,
  eventually,
  mqPrefix,
  OtlpReceiver,
  requireRabbitMQ,
} from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runCiadm } from "./cli-support.ts";
import { uniqueMq } from "./mq-support.ts";

// `ciadm trigger` with an OTLP endpoint in its environment is the root of the job's trace: its
// span and the publish beneath it reach the receiver, and the message's `traceparent` names the
// publish, so the orchestrator's spans continue the same trace. The OTLP encoding follows
// OTEL_EXPORTER_OTLP_PROTOCOL.

const prefix = mqPrefix("ciadm-trace");
const mq = uniqueMq(prefix);
let queue: AmqpJobQueue;
let subscription: Subscription;
let receiver: OtlpReceiver;
const received = new Map<string, unknown>();

beforeAll(async () => {
  await requireRabbitMQ();
  receiver = await OtlpReceiver.start();
  queue = await AmqpJobQueue.connect({ config: mq });
  subscription = await queue.consumeJobs(async (request, delivery) => {
    received.set(request.request_id, delivery.headers["traceparent"]);
  });
});

afterAll(async () => {
  await subscription?.cancel({ timeoutMs: 5_000 });
  await queue?.close({ timeoutMs: 5_000 });
  await deleteMqByPrefix(prefix);
  await receiver?.close();
});

const trigger = (protocol: string) =>
  runCiadm(
    ["trigger", "--repo", "https://example.invalid/repo.git", "--sha", "0123abcd", "--runs-on", "fast"],
    {
      env: {
        ...mqConfigEnv(mq),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      },
    },
  );

describe("ciadm trigger traced", { timeout: 60_000 }, () => {
  test("its span is the root of the job's trace; the message carries the publish as parent", async () => {
    const result = await trigger("http/json");
    expect(result.code, result.stderr).toBe(0);
    const requestId = result.stdout.trim();
    // Spans are sent before ciadm exits (its shutdown flushes them).
    const root = receiver.spans.find((s) => s.name === "ciadm trigger");
    expect(root).toMatchObject({
      service: "ciadm",
      parentSpanId: "",
      attributes: { "solstice.request_id": requestId, "solstice.label": "fast" },
    });
    // The publish (to the label's queue first, then the default one when no queue has the label).
    const publishes = receiver.spans.filter((s) => s.parentSpanId === root?.spanId);
    expect(publishes.length).toBeGreaterThan(0);
    for (const publish of publishes)
      expect(publish).toMatchObject({ name: `publish ${mq.exchange}`, traceId: root?.traceId });
    await eventually("the request consumed", () => received.has(requestId));
    expect(publishes.map((p) => `00-${root?.traceId}-${p.spanId}-01`)).toContain(received.get(requestId));
    expect(receiver.rejected).toBe(0);
  });

  test("protobuf is the default encoding", async () => {
    const before = receiver.protobufRequests;
    const result = await trigger("");
    expect(result.code, result.stderr).toBe(0);
    expect(receiver.protobufRequests).toBeGreaterThan(before);
  });

  test("an unsupported protocol is refused with a hint", async () => {
    const result = await trigger("grpc");
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('OTLP protocol "grpc" is not supported');
  });
});
