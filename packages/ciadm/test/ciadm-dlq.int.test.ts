import {
  AmqpJobQueue,
  type JobRequest,
  mqConfigEnv,
  newJobRequest,
  PermanentError,
  type Subscription,
} from "@solstice/common";
import { deleteMqByPrefix, eventually, mqPrefix, requireRabbitMQ } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runCiadm } from "./cli-support.ts";
import { uniqueMq } from "./mq-support.ts";

// `ciadm dlq list | replay | purge` on a real RabbitMQ: a consumer refuses each request the first
// time it sees it (so it is dead-lettered with a reason), and takes it once replayed.

const prefix = mqPrefix("ciadm-dlq");
const mq = uniqueMq(prefix);
const env = mqConfigEnv(mq);
let queue: AmqpJobQueue;
let subscription: Subscription;
const seen = new Map<string, number>();
const taken: JobRequest[] = [];

beforeAll(async () => {
  await requireRabbitMQ();
  queue = await AmqpJobQueue.connect({ config: mq });
  subscription = await queue.consumeJobs(async (request) => {
    const n = (seen.get(request.request_id) ?? 0) + 1;
    seen.set(request.request_id, n);
    if (n === 1) throw new PermanentError("refused by the test consumer", { code: "TEST_REFUSED" });
    taken.push(request);
  });
});

afterAll(async () => {
  await subscription?.cancel({ timeoutMs: 5_000 });
  await queue?.close({ timeoutMs: 5_000 });
  await deleteMqByPrefix(prefix);
});

const request = () =>
  newJobRequest({ source: "manual", repo_url: "https://example.invalid/repo.git", commit_sha: "0123abcd" });

describe("ciadm dlq", { timeout: 60_000 }, () => {
  test("list shows a dead letter with its reason; replay brings it back to its queue", async () => {
    const refused = request();
    await queue.publishJob(refused);
    await eventually("the request dead-lettered", async () => (await queue.deadLetters.list()).length === 1);

    const listed = await runCiadm(["dlq", "list", "--json"], { env });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({
        message_id: refused.request_id,
        reason: "refused by the test consumer",
        code: "TEST_REFUSED",
        original_exchange: mq.exchange,
        original_routing_key: mq.routingKey,
        attempts: 1,
      }),
    ]);
    const text = await runCiadm(["dlq", "list"], { env });
    expect(text.stdout).toContain(`${refused.request_id}  TEST_REFUSED`);
    expect(text.stdout).toContain("reason: refused by the test consumer");
    expect(text.stdout).not.toContain("example.invalid"); // the body only with --body

    const unknown = await runCiadm(["dlq", "replay", "00000000-0000-4000-8000-000000000000"], { env });
    expect(unknown.stderr).toContain("no message with id 00000000-0000-4000-8000-000000000000");
    expect(unknown.code).toBe(2);

    const replayed = await runCiadm(["dlq", "replay", refused.request_id], { env });
    expect(replayed.stdout).toBe("replayed 1 message\n");
    expect(replayed.code).toBe(0);
    await eventually("the replayed request taken", () =>
      taken.some((r) => r.request_id === refused.request_id),
    );
    expect(await queue.deadLetters.list()).toEqual([]);
  });

  test("purge --yes deletes every dead letter", async () => {
    await queue.publishJob(request());
    await queue.publishJob(request());
    await eventually("two requests dead-lettered", async () => (await queue.deadLetters.list()).length === 2);
    const purged = await runCiadm(["dlq", "purge", "--yes"], { env });
    expect(purged.stdout).toBe(`purged 2 messages from ${mq.dlq}\n`);
    expect(purged.code).toBe(0);
    expect(await queue.deadLetters.list()).toEqual([]);
  });

  test("an unreachable broker is a connection error: exit 2, the hint names AMQP_URL", async () => {
    const r = await runCiadm(["dlq", "list"], { env: { ...env, AMQP_URL: "amqp://127.0.0.1:9/%2f" } });
    expect(r.stderr).toMatch(/RabbitMQ at amqp:\/\/127\.0\.0\.1:9.* unavailable/);
    expect(r.stderr).toContain("AMQP_URL");
    expect(r.code).toBe(2);
  });
});
