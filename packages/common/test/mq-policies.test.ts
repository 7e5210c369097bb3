import { describe, expect, test } from "vitest";
import { MessageValidationError, PermanentError } from "../src/errors.ts";
import { backoffDelay } from "../src/mq/backoff.ts";
import type { Delivery } from "../src/mq/broker.ts";
import { deadLetterMessage, readDeadLetter, replayMessage } from "../src/mq/dead-letter-headers.ts";
import { decideFailure } from "../src/mq/failure-policy.ts";
import { FifoQueue } from "../src/mq/fifo-queue.ts";
import { topicMatches } from "../src/mq/memory/topic-match.ts";
import { MQ_DEFAULTS } from "../src/mq/mq-config.ts";
import { cancelTopology, ownerEventsTopology } from "../src/mq/topology.ts";

describe("backoff", () => {
  const policy = { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0.5 };
  test("grows exponentially up to the cap", () => {
    const noJitter = { ...policy, jitter: 0 };
    expect([1, 2, 3, 4, 5, 10].map((a) => backoffDelay(noJitter, a))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });
  test("jitter only shortens, by at most its fraction", () => {
    expect(backoffDelay(policy, 3, () => 0)).toBe(400);
    expect(backoffDelay(policy, 3, () => 0.999999)).toBe(200);
  });
});

describe("failure policy", () => {
  const retry = { maxAttempts: 3, retryDelayMs: 100 };
  test.each([
    ["a PermanentError", new PermanentError("no such label", { code: "UNKNOWN_LABEL" }), 1, "UNKNOWN_LABEL"],
    [
      "an invalid message",
      new MessageValidationError("JobRequest", [{ path: "repo_url", message: "required" }]),
      1,
      "MESSAGE_INVALID",
    ],
  ])("%s is dead-lettered at once", (_name, error, attempt, code) => {
    expect(decideFailure(error, attempt, retry)).toEqual({
      action: "dead-letter",
      reason: error.message,
      code,
    });
  });
  test("other errors are retried with a growing delay until the last attempt", () => {
    expect(decideFailure(new Error("db down"), 1, retry, () => 0)).toEqual({
      action: "retry",
      delayMs: 100,
      reason: "db down",
    });
    expect(decideFailure(new Error("db down"), 2, retry, () => 0)).toEqual({
      action: "retry",
      delayMs: 200,
      reason: "db down",
    });
    expect(decideFailure(new Error("db down"), 3, retry)).toEqual({
      action: "dead-letter",
      reason: "gave up after 3 attempts: db down",
      code: "HANDLER_FAILED",
    });
    expect(decideFailure("a string", 1, { maxAttempts: 1, retryDelayMs: 1 })).toMatchObject({
      reason: "gave up after 1 attempt: a string",
    });
  });
});

describe("dead-letter headers", () => {
  const delivery: Delivery = {
    body: Buffer.from("{}"),
    messageId: "m-1",
    contentType: "application/json",
    type: "jobrequest.v1",
    headers: { "x-schema": "jobrequest.v1", traceparent: "00-aa-bb-01" },
    timestamp: 1,
    exchange: "solstice.jobs",
    routingKey: "jobrequest.v1",
    queue: "solstice.jobs.v1",
    redelivered: false,
    attempt: 2,
  };
  const now = new Date("2025-01-02T03:04:05.000Z");

  test("carry the reason and origin, and read back", () => {
    const message = deadLetterMessage(
      delivery,
      "solstice.dlx",
      { reason: "bad", code: "X", attempts: 2 },
      now,
    );
    expect(message).toMatchObject({ exchange: "solstice.dlx", messageId: "m-1", type: "jobrequest.v1" });
    const letter = readDeadLetter({
      ...delivery,
      headers: message.headers ?? {},
      queue: "solstice.jobs.v1.dlq",
    });
    expect(letter).toMatchObject({
      reason: "bad",
      code: "X",
      originalExchange: "solstice.jobs",
      originalRoutingKey: "jobrequest.v1",
      originalQueue: "solstice.jobs.v1",
      failedAt: "2025-01-02T03:04:05.000Z",
      attempts: 2,
    });
    const replay = replayMessage(letter);
    expect(replay).toMatchObject({
      exchange: "solstice.jobs",
      routingKey: "jobrequest.v1",
      messageId: "m-1",
    });
    expect(replay?.headers).toEqual({
      "x-schema": "jobrequest.v1",
      traceparent: "00-aa-bb-01",
      "x-solstice-replays": 1,
    });
  });

  test("fall back to the broker's x-death when the message was rejected without them", () => {
    const letter = readDeadLetter({
      ...delivery,
      headers: {
        "x-death": [
          {
            count: 1,
            reason: "rejected",
            queue: "solstice.jobs.v1",
            exchange: "solstice.jobs",
            "routing-keys": ["jobrequest.v1"],
            time: { "!": "timestamp", value: 1_735_787_045 },
          },
        ],
      },
    });
    expect(letter).toMatchObject({
      reason: "dead-lettered by the broker: rejected",
      code: "BROKER_DEAD_LETTERED",
      originalQueue: "solstice.jobs.v1",
      originalRoutingKey: "jobrequest.v1",
      failedAt: "2025-01-02T03:04:05.000Z",
    });
    expect(replayMessage(letter)?.headers).toEqual({ "x-solstice-replays": 1 });
    expect(replayMessage(readDeadLetter({ ...delivery, headers: {} }))).toBeUndefined();
  });
});

describe("topology names", () => {
  test("an owner's events queue and routing key", () => {
    const t = ownerEventsTopology(MQ_DEFAULTS, { kind: "forgejo", instance: "https://code.example.org" });
    expect(t.queue).toBe("solstice.events.forgejo.https_3a_2f_2fcode_2eexample_2eorg");
    expect(t.bindings).toEqual([
      {
        queue: t.queue,
        exchange: "solstice.events",
        routingKey: "jobevent.v1.forgejo.https_3a_2f_2fcode_2eexample_2eorg",
      },
    ]);
  });
  test("a cancel queue per consumer id, wildcards escaped", () => {
    expect(cancelTopology(MQ_DEFAULTS, "host-1.example").queue).toBe("solstice.cancel.host-1.example");
    expect(cancelTopology(MQ_DEFAULTS, "a#b c").queue).toBe("solstice.cancel.a_23b_20c");
  });
});

describe("topic matching", () => {
  test.each([
    ["jobevent.v1.forgejo.a", "jobevent.v1.forgejo.a", true],
    ["jobevent.v1.forgejo.a", "jobevent.v1.forgejo.b", false],
    ["jobevent.v1.forgejo.*", "jobevent.v1.forgejo.a", true],
    ["jobevent.v1.*", "jobevent.v1.forgejo.a", false],
    ["jobevent.#", "jobevent.v1.forgejo.a", true],
    ["jobevent.#", "jobevent", true],
    ["#.a", "jobevent.v1.forgejo.a", true],
    ["#", "", true],
  ])("%s ~ %s → %s", (pattern, key, expected) => {
    expect(topicMatches(pattern, key)).toBe(expected);
  });
});

describe("FifoQueue", () => {
  test("keeps order through shifts, compaction, removals and put-backs", () => {
    const q = new FifoQueue<number>();
    for (let i = 0; i < 5_000; i++) q.push(i);
    for (let i = 0; i < 3_000; i++) expect(q.shift()).toBe(i);
    expect(q.removeWhere((n) => n % 2 === 1)).toHaveLength(1_000);
    q.unshiftAll([-2, -1]);
    expect(q.length).toBe(1_002);
    expect([...q].slice(0, 4)).toEqual([-2, -1, 3_000, 3_002]);
    expect(q.drain()).toHaveLength(1_002);
    expect(q.shift()).toBeUndefined();
  });
});
