// The behaviour every JobQueue must have, run against RabbitMQ (mq.int.test.ts) and against the
// in-process queue (in-process-job-queue.test.ts): one suite, two transports, same semantics.
import { eventually } from "@solstice/test-support";
import { afterEach, expect, test } from "vitest";
import { DeadLetterNotFoundError, PermanentError, QueueClosedError, UnroutableError } from "../src/errors.ts";
import {
  type JobEvent,
  JobEventSchema,
  type JobOwner,
  type JobRequest,
  newCancelRequest,
  newJobRequest,
  nowRfc3339,
} from "../src/messages/index.ts";
import type { BrokerJobQueue } from "../src/mq/broker-job-queue.ts";
import { jsonMessage } from "../src/mq/json-codec.ts";
import type { MqConfig, MqConfigInput } from "../src/mq/mq-config.ts";
import { deferred } from "./mq-test-support.ts";

/** A queue under test and its settings. */
export interface QueueFixture {
  readonly queue: BrokerJobQueue;
  readonly config: MqConfig;
}

/** Makes a fresh queue with unique names. */
export type QueueFactory = (overrides?: MqConfigInput) => Promise<QueueFixture>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function job(extra: Partial<Parameters<typeof newJobRequest>[0]> = {}): JobRequest {
  return newJobRequest({
    source: "manual",
    repo_url: "https://example.org/repo.git",
    commit_sha: "0123456789abcdef0123456789abcdef01234567",
    runs_on: "ubuntu-24.04",
    ...extra,
  });
}

function logEvent(requestId: string, seq: number, text: string): JobEvent {
  return JobEventSchema.parse({
    type: "log",
    request_id: requestId,
    timestamp: nowRfc3339(),
    seq,
    step: null,
    stream: "system",
    text,
  });
}

/** Defines the shared behaviour tests in the calling `describe`. */
export function describeJobQueueBehaviour(factory: QueueFactory): void {
  const opened: BrokerJobQueue[] = [];
  const open = async (overrides?: MqConfigInput): Promise<QueueFixture> => {
    const fixture = await factory(overrides);
    opened.push(fixture.queue);
    return fixture;
  };
  afterEach(async () => {
    for (const queue of opened.splice(0)) await queue.close({ timeoutMs: 2_000 });
  });

  test("round trip: a confirmed JobRequest arrives unchanged, with its message id and schema", async () => {
    const { queue } = await open();
    const received: {
      req: JobRequest;
      messageId: string | undefined;
      type: string | undefined;
      schema: unknown;
    }[] = [];
    await queue.consumeJobs(async (req, ctx) => {
      received.push({ req, messageId: ctx.messageId, type: ctx.type, schema: ctx.headers["x-schema"] });
    });
    const sent = job({
      steps: [{ name: "build", run: "make" }],
      owner: { kind: "manual", instance: "alice" },
    });
    await queue.publishJob(sent);
    await eventually("the job is consumed", () => received.length === 1);
    expect(received[0]).toEqual({
      req: sent,
      messageId: sent.request_id,
      type: "jobrequest.v1",
      schema: "jobrequest.v1",
    });
  });

  test("prefetch N: never more than N handlers at once, and N is reached", async () => {
    const { queue } = await open();
    let running = 0;
    let max = 0;
    let done = 0;
    await queue.consumeJobs(
      async () => {
        running++;
        max = Math.max(max, running);
        await sleep(10);
        running--;
        done++;
      },
      { prefetch: 3 },
    );
    await Promise.all(Array.from({ length: 30 }, () => queue.publishJob(job())));
    await eventually("30 jobs handled", () => done === 30);
    expect(max).toBe(3);
  });

  test("an unroutable publish rejects with UnroutableError, and publishing goes on after it", async () => {
    const { queue, config } = await open();
    const noRoute = await queue.broker
      .publish({
        exchange: config.exchange,
        routingKey: "nobody.listens",
        body: Buffer.from("{}"),
        messageId: "m-1",
      })
      .catch((e: unknown) => e);
    expect(noRoute).toBeInstanceOf(UnroutableError);
    expect(noRoute).toMatchObject({ code: "MQ_UNROUTABLE", replyCode: 312, routingKey: "nobody.listens" });

    const noExchange = await queue.broker
      .publish({
        exchange: `${config.exchange}.missing`,
        routingKey: "x",
        body: Buffer.from("{}"),
        messageId: "m-2",
      })
      .catch((e: unknown) => e);
    expect(noExchange).toBeInstanceOf(UnroutableError);
    expect(noExchange).toMatchObject({ replyCode: 404 });

    // A cancel nobody listens for is an error too: no orchestrator would see it.
    const cancel = newCancelRequest({
      request_id: job().request_id,
      reason: "test",
      requested_by: "ciadm:test",
    });
    await expect(queue.publishCancel(cancel)).rejects.toBeInstanceOf(UnroutableError);

    await queue.publishJob(job());
  });

  test("a message that is not JSON lands in the DLQ with the reason and where it came from", async () => {
    const { queue, config } = await open();
    let handled = 0;
    await queue.consumeJobs(async () => {
      handled++;
    });
    await queue.broker.publish({
      exchange: config.exchange,
      routingKey: config.routingKey,
      body: Buffer.from("not json {"),
      messageId: "poison-1",
    });
    await eventually("a dead letter", async () => (await queue.deadLetters.list()).length === 1);
    const [letter] = await queue.deadLetters.list();
    expect(letter).toMatchObject({
      messageId: "poison-1",
      code: "MESSAGE_INVALID",
      originalExchange: config.exchange,
      originalRoutingKey: config.routingKey,
      originalQueue: config.queue,
      attempts: 1,
    });
    expect(letter?.reason).toMatch(/^invalid JobRequest: not JSON/);
    expect(Number.isNaN(Date.parse(letter?.failedAt ?? ""))).toBe(false);
    expect(letter?.body.toString()).toBe("not json {");
    expect(handled).toBe(0);
  });

  test("a JobRequest that breaks the schema is dead-lettered naming the bad field", async () => {
    const { queue, config } = await open();
    await queue.consumeJobs(async () => {});
    const { repo_url: _dropped, ...withoutRepo } = job();
    await queue.broker.publish({
      exchange: config.exchange,
      routingKey: config.routingKey,
      body: Buffer.from(JSON.stringify({ ...withoutRepo, steps: [{ run: 42 }] })),
      messageId: "bad-schema",
    });
    await eventually("a dead letter", async () => (await queue.deadLetters.list()).length === 1);
    const [letter] = await queue.deadLetters.list();
    expect(letter?.code).toBe("MESSAGE_INVALID");
    expect(letter?.reason).toContain("repo_url");
    expect(letter?.reason).toContain("steps[0].run");
  });

  test("a PermanentError dead-letters at once, with the handler's code", async () => {
    const { queue } = await open();
    const attempts: number[] = [];
    await queue.consumeJobs(async (_req, ctx) => {
      attempts.push(ctx.attempt);
      throw new PermanentError("unknown label solaris-7", { code: "UNKNOWN_LABEL" });
    });
    const sent = job();
    await queue.publishJob(sent);
    await eventually("a dead letter", async () => (await queue.deadLetters.list()).length === 1);
    const [letter] = await queue.deadLetters.list();
    expect(letter).toMatchObject({
      messageId: sent.request_id,
      code: "UNKNOWN_LABEL",
      reason: "unknown label solaris-7",
    });
    expect(attempts).toEqual([1]);
  });

  test("a transient failure is retried (requeued) and then succeeds", async () => {
    const { queue } = await open();
    const attempts: number[] = [];
    let succeeded = 0;
    await queue.consumeJobs(
      async (_req, ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt < 3) throw new Error("database is restarting");
        succeeded++;
      },
      { maxAttempts: 3, retryDelayMs: 5 },
    );
    await queue.publishJob(job());
    await eventually("the job succeeds", () => succeeded === 1);
    expect(attempts).toEqual([1, 2, 3]);
    expect(await queue.deadLetters.list()).toEqual([]);
  });

  test("a message that keeps failing is dead-lettered after its last attempt", async () => {
    const { queue } = await open();
    await queue.consumeJobs(
      async () => {
        throw new Error("database down");
      },
      { maxAttempts: 2, retryDelayMs: 5 },
    );
    await queue.publishJob(job());
    await eventually("a dead letter", async () => (await queue.deadLetters.list()).length === 1);
    const [letter] = await queue.deadLetters.list();
    expect(letter).toMatchObject({
      code: "HANDLER_FAILED",
      reason: "gave up after 2 attempts: database down",
      attempts: 2,
    });
  });

  test("replay sends a dead letter back to its queue; purge empties the DLQ", async () => {
    const { queue } = await open();
    const replayed: { id: string; replays: unknown }[] = [];
    await queue.consumeJobs(async (req, ctx) => {
      if (ctx.headers["x-solstice-replays"] === undefined) throw new PermanentError("not yet");
      replayed.push({ id: req.request_id, replays: ctx.headers["x-solstice-replays"] });
    });
    const [a, b, c] = [job(), job(), job()];
    for (const req of [a, b, c]) await queue.publishJob(req as JobRequest);
    await eventually("three dead letters", async () => (await queue.deadLetters.list()).length === 3);

    await expect(queue.deadLetters.replay({ messageId: "no-such-message" })).rejects.toBeInstanceOf(
      DeadLetterNotFoundError,
    );
    expect(await queue.deadLetters.replay({ messageId: b?.request_id ?? "" })).toBe(1);
    await eventually("the replayed job is handled", () => replayed.length === 1);
    expect(replayed).toEqual([{ id: b?.request_id, replays: 1 }]);
    const left = await queue.deadLetters.list();
    expect(left.map((l) => l.messageId).sort()).toEqual([a?.request_id, c?.request_id].sort());

    expect(await queue.deadLetters.purge()).toBe(2);
    expect(await queue.deadLetters.list()).toEqual([]);
  });

  test("events reach their owner's queue only, in order; events nobody listens for are accepted", async () => {
    const { queue } = await open();
    const ownerA: JobOwner = { kind: "forgejo", instance: "https://code.example.org/runner-a", task_id: "7" };
    const ownerB: JobOwner = { kind: "forgejo", instance: "https://code.example.org/runner-b" };
    const seenA: JobEvent[] = [];
    const seenB: JobEvent[] = [];
    await queue.consumeEvents(ownerA, async (ev) => void seenA.push(ev), { prefetch: 1 });
    await queue.consumeEvents(ownerB, async (ev) => void seenB.push(ev), { prefetch: 1 });
    const idA = job().request_id;
    const idB = job().request_id;
    for (let seq = 0; seq < 20; seq++) await queue.publishEvent(logEvent(idA, seq, `line ${seq}`), ownerA);
    await queue.publishEvent(logEvent(idB, 0, "only for b"), ownerB);
    // A manual job whose owner has no queue, and a job without owner: not an error.
    await queue.publishEvent(logEvent(job().request_id, 0, "x"), { kind: "manual", instance: "gone" });
    await queue.publishEvent(logEvent(job().request_id, 0, "y"), undefined);

    await eventually("all events", () => seenA.length === 20 && seenB.length === 1);
    expect(seenA.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(new Set(seenA.map((e) => e.request_id))).toEqual(new Set([idA]));
    expect(seenB.map((e) => [e.request_id, e.type === "log" ? e.text : e.type])).toEqual([
      [idB, "only for b"],
    ]);
  });

  test("an owner's event queue is deleted only once empty; later events go unrouted", async () => {
    const { queue } = await open();
    const owner: JobOwner = { kind: "github", instance: "https://github.com/acme/widget#77" };
    const id = job().request_id;
    const seen: JobEvent[] = [];
    const first = await queue.consumeEvents(owner, async (ev) => void seen.push(ev), { prefetch: 1 });
    await first.cancel();
    await queue.publishEvent(logEvent(id, 0, "waiting"), owner);
    // An event waits in it: the queue stays.
    await eventually("the event queued", async () => !(await queue.deleteEvents(owner)));
    const again = await queue.consumeEvents(owner, async (ev) => void seen.push(ev), { prefetch: 1 });
    await eventually("the event consumed", () => seen.length === 1);
    await again.cancel();
    expect(await queue.deleteEvents(owner)).toBe(true);
    expect(await queue.deleteEvents(owner)).toBe(true);
    // The owner is gone: its events are accepted (unrouted), not an error.
    await queue.publishEvent(logEvent(id, 1, "late"), owner);
  });

  test("a cancel request reaches every cancel consumer", async () => {
    const { queue } = await open();
    const got: string[] = [];
    await queue.consumeCancels("host-a", async (c) => void got.push(`a:${c.request_id}`));
    await queue.consumeCancels("host-b", async (c) => void got.push(`b:${c.request_id}`));
    const cancel = newCancelRequest({
      request_id: job().request_id,
      reason: "user asked",
      requested_by: "ciadm:alice",
    });
    await queue.publishCancel(cancel);
    await eventually("both consumers", () => got.length === 2);
    expect(got.sort()).toEqual([`a:${cancel.request_id}`, `b:${cancel.request_id}`]);
  });

  test("close waits for running handlers; publishing after close fails", async () => {
    const { queue } = await open();
    const gate = deferred();
    const started = deferred();
    let finished = false;
    await queue.consumeJobs(async () => {
      started.resolve();
      await gate.promise;
      finished = true;
    });
    await queue.publishJob(job());
    await started.promise;
    let closed = false;
    const closing = queue.close({ timeoutMs: 10_000 }).then(() => {
      closed = true;
    });
    await sleep(100);
    expect(closed).toBe(false);
    gate.resolve();
    await closing;
    expect(finished).toBe(true);
    await expect(queue.publishJob(job())).rejects.toBeInstanceOf(QueueClosedError);
  });

  test("label routes: a request reaches only its label's queue (or an alias's); others take the original's route", async () => {
    const { queue } = await open();
    const got: string[] = [];
    const take = (where: string) => async (req: JobRequest, ctx: { queue: string }) => {
      got.push(`${where}:${req.runs_on}:${ctx.queue.endsWith(`.label.${where}`) || where === "legacy"}`);
    };
    await queue.consumeLabelJobs("a", ["a-alias"], take("a"));
    await queue.consumeLabelJobs("b", [], take("b"));
    await queue.consumeJobs(take("legacy"));
    for (const runsOn of ["a", "b", "a-alias", "c"]) await queue.publishJob(job({ runs_on: runsOn }));
    await queue.publishJob(job({ runs_on: null }));
    await eventually("five requests", () => got.length === 5);
    expect(got.sort()).toEqual(
      ["a:a:true", "a:a-alias:true", "b:b:true", "legacy:c:true", "legacy:null:true"].sort(),
    );
  });

  test("a label's queue is shared by its consumers (round-robin) and keeps requests while none consumes", async () => {
    const { queue } = await open();
    const first = await queue.consumeLabelJobs("shared", [], async () => {});
    await first.cancel();
    // Declared once, durable: requests wait in it with no consumer.
    for (let i = 0; i < 6; i++) await queue.publishJob(job({ runs_on: "shared" }));
    await eventually("six waiting", async () => {
      const depths = await queue.inspectJobQueues(["shared", "never-declared"]);
      return depths.labels.length === 1 && depths.labels[0]?.messages === 6;
    });
    const depths = await queue.inspectJobQueues(["shared", "never-declared"]);
    expect(depths.labels).toEqual([expect.objectContaining({ label: "shared", messages: 6, consumers: 0 })]);
    expect(depths.original).toMatchObject({ messages: 0 });
    expect(depths.deadLetters).toMatchObject({ messages: 0 });
    const byConsumer = { x: 0, y: 0 };
    const slow = (who: "x" | "y") => async () => {
      byConsumer[who]++;
      await sleep(20);
    };
    await queue.consumeLabelJobs("shared", [], slow("x"), { prefetch: 1 });
    await queue.consumeLabelJobs("shared", [], slow("y"), { prefetch: 1 });
    await eventually("all six handled", () => byConsumer.x + byConsumer.y === 6);
    expect(byConsumer.x).toBeGreaterThan(0);
    expect(byConsumer.y).toBeGreaterThan(0);
  });

  test("the router moves a request sent the original's way to its label route: body and headers kept, acked after the confirm", async () => {
    const { queue, config } = await open();
    const arrived: { body: JobRequest; custom: unknown; routingKey: string; queue: string }[] = [];
    await queue.consumeLabelJobs("a", [], async (req, ctx) => {
      arrived.push({
        body: req,
        custom: ctx.headers["x-custom"],
        routingKey: ctx.routingKey,
        queue: ctx.queue,
      });
    });
    const unserved: string[] = [];
    await queue.routeJobs({
      label: (req) => (req.runs_on === "alias-of-a" ? "a" : (req.runs_on ?? "a")),
      unserved: async (req) => void unserved.push(req.request_id),
    });
    const sent = job({ runs_on: "alias-of-a", owner: { kind: "manual", instance: "alice" } });
    // Published as the original did: exchange solstice.jobs, routing key jobrequest.v1.
    await queue.broker.publish({
      ...jsonMessage(sent, {
        exchange: config.exchange,
        routingKey: config.routingKey,
        messageId: sent.request_id,
        schema: "jobrequest.v1",
      }),
      headers: { "x-custom": "kept", "x-schema": "jobrequest.v1" },
    });
    await eventually("the request reached label a", () => arrived.length === 1);
    expect(arrived[0]).toEqual({
      body: sent,
      custom: "kept",
      routingKey: `${config.routingKey}.a`,
      queue: expect.stringMatching(/\.label\.a$/),
    });
    await eventually("the original is acknowledged", async () => {
      const depths = await queue.inspectJobQueues([]);
      return depths.original?.messages === 0;
    });
    expect(unserved).toEqual([]);
    expect(await queue.deadLetters.list()).toEqual([]);
  });

  test("a request for a label no consumer serves is dead-lettered by the router with the reason, its owner told first", async () => {
    const { queue, config } = await open();
    await queue.consumeLabelJobs("a", [], async () => {});
    const told: string[] = [];
    await queue.routeJobs({
      label: (req) => req.runs_on ?? "a",
      unserved: async (req, error) => void told.push(`${req.request_id}: ${error.message}`),
    });
    const sent = job({ runs_on: "plan9" });
    // publishJob finds no label route and falls back to the original's: the router takes it.
    await queue.publishJob(sent);
    await eventually("a dead letter", async () => (await queue.deadLetters.list()).length === 1);
    const [letter] = await queue.deadLetters.list();
    expect(letter).toMatchObject({
      messageId: sent.request_id,
      code: "JOB_LABEL_UNSERVED",
      reason: "no orchestrator serves label plan9",
      originalExchange: config.exchange,
      originalRoutingKey: config.routingKey,
      originalQueue: config.queue,
      attempts: 1,
    });
    expect(told).toEqual([`${sent.request_id}: no orchestrator serves label plan9`]);
  });
}
