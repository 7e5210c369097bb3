import { deleteMqByPrefix, eventually, mqPrefix, requireRabbitMQ } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { newJobRequest } from "../src/messages/index.ts";
import { AmqpJobQueue } from "../src/mq/amqp-job-queue.ts";
import { rabbitmqctl, recordingLogger, uniqueMqConfig } from "./mq-test-support.ts";

const prefix = mqPrefix("mq-restart");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(requireRabbitMQ);
afterAll(() => deleteMqByPrefix(prefix));

describe("AmqpJobQueue across a broker restart", () => {
  test("1,000 messages published while RabbitMQ restarts are all consumed, by a consumer that resumed by itself", async () => {
    const config = uniqueMqConfig(prefix, { publishTimeoutMs: 120_000, reconnectMaxDelayMs: 2_000 });
    const logger = recordingLogger();
    const queue = await AmqpJobQueue.connect({ config, logger });
    try {
      const seen = new Set<string>();
      await queue.consumeJobs(async (req) => void seen.add(req.request_id), { prefetch: 20 });

      const sent: string[] = [];
      const publishes: Promise<void>[] = [];
      // About 5 s of publishing, 10 messages every 50 ms: before, during and after the outage.
      const publishing = (async () => {
        for (let i = 0; i < 1_000; i++) {
          const req = newJobRequest({
            source: "manual",
            repo_url: "https://example.org/r.git",
            commit_sha: `c${i}`,
          });
          sent.push(req.request_id);
          publishes.push(queue.publishJob(req));
          if (i % 10 === 9) await sleep(50);
        }
      })();

      await sleep(500);
      // The broker is shared with other tests: keep the outage short, and always start it again.
      let sentWhileDown = 0;
      let connectedWhileDown = true;
      try {
        await rabbitmqctl("stop_app");
        const sentAtStop = sent.length;
        await sleep(2_000);
        sentWhileDown = sent.length - sentAtStop;
        connectedWhileDown = queue.broker.connected;
      } finally {
        await rabbitmqctl("start_app");
      }
      await publishing;
      // The test means something only if publishing really went on during the outage.
      expect(connectedWhileDown).toBe(false);
      expect(sentWhileDown).toBeGreaterThan(0);

      const outcomes = await Promise.allSettled(publishes);
      expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);
      await eventually("every message consumed", () => sent.every((id) => seen.has(id)), 120_000);
      expect(seen.size).toBe(1_000);
      expect(logger.messages.some((m) => m.message === "reconnected to RabbitMQ")).toBe(true);
      // Subscribed once by the test, again by itself after the restart.
      expect(logger.messages.filter((m) => m.message === "consuming").length).toBeGreaterThanOrEqual(2);
    } finally {
      await queue.close();
    }
  }, 300_000);
});
