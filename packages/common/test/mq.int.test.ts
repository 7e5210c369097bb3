import { AMQP_URL, deleteMqByPrefix, eventually, mqPrefix, requireRabbitMQ } from "@solstice/test-support";
import { connect } from "amqplib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BrokerUnavailableError, TopologyMismatchError } from "../src/errors.ts";
import { newJobRequest } from "../src/messages/index.ts";
import { AmqpBroker } from "../src/mq/amqp/amqp-broker.ts";
import { AmqpJobQueue } from "../src/mq/amqp-job-queue.ts";
import { mqConfigFromEnv } from "../src/mq/mq-config.ts";
import { describeJobQueueBehaviour } from "./mq-queue-behaviour.ts";
import { recordingLogger, uniqueMqConfig } from "./mq-test-support.ts";

const prefix = mqPrefix("mq");

beforeAll(requireRabbitMQ);
afterAll(() => deleteMqByPrefix(prefix));

describe("AmqpJobQueue on RabbitMQ", () => {
  describeJobQueueBehaviour(async (overrides) => {
    const config = uniqueMqConfig(prefix, overrides);
    return { queue: await AmqpJobQueue.connect({ config }), config };
  });
});

describe("AmqpJobQueue on the wire", () => {
  test("declares the original's topology, idempotently", async () => {
    const config = uniqueMqConfig(prefix);
    // Twice: the second declaration finds everything in place.
    await (await AmqpJobQueue.connect({ config })).close();
    const queue = await AmqpJobQueue.connect({ config });
    await queue.close();

    const model = await connect(AMQP_URL);
    try {
      const channel = await model.createChannel();
      // A passive check fails (and closes the channel) when something is missing.
      for (const exchange of [
        config.exchange,
        config.dlx,
        config.eventsExchange,
        config.eventsUnrouted,
        config.cancelExchange,
      ]) {
        await channel.checkExchange(exchange);
      }
      for (const name of [config.queue, config.dlq, config.eventsUnrouted]) await channel.checkQueue(name);
      // The binding queue ← exchange with the routing key: a raw publish reaches the queue.
      const confirm = await model.createConfirmChannel();
      confirm.publish(config.exchange, config.routingKey, Buffer.from("{}"), { mandatory: true });
      await confirm.waitForConfirms();
      await eventually(
        "the raw message is queued",
        async () => (await channel.checkQueue(config.queue)).messageCount === 1,
      );
      // x-dead-letter-exchange on the jobs queue: a reject lands in the DLQ through the DLX.
      const message = await channel.get(config.queue, { noAck: false });
      expect(message).not.toBe(false);
      if (message !== false) channel.nack(message, false, false);
      await eventually(
        "the rejected message is in the DLQ",
        async () => (await channel.checkQueue(config.dlq)).messageCount === 1,
      );
      await confirm.close();
      await channel.close();
    } finally {
      await model.close();
    }
  });

  test("publishes persistent JSON with message id, type, schema header and confirms", async () => {
    const config = uniqueMqConfig(prefix);
    const queue = await AmqpJobQueue.connect({ config });
    const req = newJobRequest({
      source: "github",
      repo_url: "https://github.com/o/r.git",
      commit_sha: "abc123",
    });
    try {
      await queue.publishJob(req);
    } finally {
      await queue.close();
    }
    const model = await connect(AMQP_URL);
    try {
      const channel = await model.createChannel();
      const message = await channel.get(config.queue, { noAck: true });
      expect(message).not.toBe(false);
      if (message === false) return;
      expect(JSON.parse(message.content.toString("utf8"))).toEqual(req);
      expect(message.properties).toMatchObject({
        contentType: "application/json",
        contentEncoding: "utf-8",
        deliveryMode: 2,
        messageId: req.request_id,
        type: "jobrequest.v1",
      });
      expect(message.properties.headers).toMatchObject({ "x-schema": "jobrequest.v1" });
      await channel.close();
    } finally {
      await model.close();
    }
  });

  test("a dead letter carries its reason in AMQP headers (read back with a plain client)", async () => {
    const config = uniqueMqConfig(prefix);
    const queue = await AmqpJobQueue.connect({ config });
    try {
      await queue.consumeJobs(async () => {});
      await queue.broker.publish({
        exchange: config.exchange,
        routingKey: config.routingKey,
        body: Buffer.from('{"schema_version":"jobrequest.v1"}'),
        messageId: "poison-raw",
      });
      await eventually("a dead letter", async () => (await queue.deadLetters.list()).length === 1);
    } finally {
      await queue.close();
    }
    const model = await connect(AMQP_URL);
    try {
      const channel = await model.createChannel();
      const message = await channel.get(config.dlq, { noAck: true });
      expect(message).not.toBe(false);
      if (message === false) return;
      const headers = message.properties.headers ?? {};
      expect(headers["x-solstice-error-code"]).toBe("MESSAGE_INVALID");
      expect(headers["x-solstice-reason"]).toMatch(/^invalid JobRequest: .*request_id/);
      expect(headers["x-solstice-original-exchange"]).toBe(config.exchange);
      expect(headers["x-solstice-original-routing-key"]).toBe(config.routingKey);
      expect(headers["x-solstice-original-queue"]).toBe(config.queue);
      expect(headers["x-solstice-attempts"]).toBe(1);
      expect(new Date(String(headers["x-solstice-failed-at"])).toISOString()).toBe(
        headers["x-solstice-failed-at"],
      );
      expect(message.properties.messageId).toBe("poison-raw");
      await channel.close();
    } finally {
      await model.close();
    }
  });

  test("a consumer whose queue is deleted under it declares it again and resumes by itself", async () => {
    const config = uniqueMqConfig(prefix);
    const logger = recordingLogger();
    const queue = await AmqpJobQueue.connect({ config, logger });
    try {
      const seen: string[] = [];
      await queue.consumeJobs(async (req) => void seen.push(req.request_id));
      const model = await connect(AMQP_URL);
      try {
        const channel = await model.createChannel();
        await channel.deleteQueue(config.queue);
        await channel.close();
      } finally {
        await model.close();
      }
      await eventually(
        "subscribed again",
        () => logger.messages.filter((m) => m.message === "consuming").length === 2,
      );
      const req = newJobRequest({ source: "manual", repo_url: "https://x/y.git", commit_sha: "abc" });
      await queue.publishJob(req);
      await eventually("the job is consumed", () => seen.includes(req.request_id));
    } finally {
      await queue.close();
    }
  });

  test("a queue that exists with other arguments is a clear TopologyMismatchError", async () => {
    const config = uniqueMqConfig(prefix);
    const model = await connect(AMQP_URL);
    try {
      const channel = await model.createChannel();
      await channel.assertQueue(config.queue, { durable: true }); // no x-dead-letter-exchange
      await channel.close();
    } finally {
      await model.close();
    }
    const broker = AmqpBroker.start({ config: { ...config, publishTimeoutMs: 1_500 } });
    try {
      const error = await broker.waitUntilConnected().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BrokerUnavailableError);
      expect((error as BrokerUnavailableError).cause).toBeInstanceOf(TopologyMismatchError);
      expect((error as Error).message).toContain(config.queue);
    } finally {
      await broker.close();
    }
  });

  test("without a broker, connect and publish fail with BrokerUnavailableError once their time is up", async () => {
    // Port 1 on loopback: nothing listens there.
    const config = mqConfigFromEnv({}, { url: "amqp://guest:secret@127.0.0.1:1/%2f", publishTimeoutMs: 400 });
    const connecting = await AmqpJobQueue.connect({ config }).catch((e: unknown) => e);
    expect(connecting).toBeInstanceOf(BrokerUnavailableError);
    expect((connecting as Error).message).not.toContain("secret");

    const broker = AmqpBroker.start({ config });
    try {
      const publishing = await broker
        .publish({
          exchange: config.exchange,
          routingKey: config.routingKey,
          body: Buffer.from("{}"),
          messageId: "x",
        })
        .catch((e: unknown) => e);
      expect(publishing).toBeInstanceOf(BrokerUnavailableError);
      expect(publishing).toMatchObject({
        code: "MQ_BROKER_UNAVAILABLE",
        url: "amqp://guest:***@127.0.0.1:1/%2f",
      });
    } finally {
      await broker.close();
    }
  });
});
