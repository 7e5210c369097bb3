import { connect } from "amqplib";
import { measure, type RunResult, type Workload } from "./workload.ts";

/**
 * The baseline: the same workload with amqplib alone, written as one would by hand: a confirm
 * channel, each publish `mandatory` and persistent with a per-message confirm callback, a
 * consumer with the same prefetch that parses the JSON and acks.
 */
export async function runBareAmqplib(workload: Workload, prefix: string): Promise<RunResult> {
  const exchange = `${prefix}.jobs`;
  const queue = `${prefix}.jobs.v1`;
  const routingKey = "jobrequest.v1";
  const model = await connect(workload.url);
  try {
    const setup = await model.createChannel();
    await setup.assertExchange(exchange, "direct", { durable: true });
    await setup.assertQueue(queue, { durable: true });
    await setup.bindQueue(queue, exchange, routingKey);

    const consumer = await model.createChannel();
    await consumer.prefetch(workload.prefetch);
    let consumed = 0;
    let allConsumed!: () => void;
    const done = new Promise<void>((resolve) => {
      allConsumed = resolve;
    });
    await consumer.consume(queue, (message) => {
      if (message === null) return;
      JSON.parse(message.content.toString("utf8"));
      consumer.ack(message);
      if (++consumed === workload.messages) allConsumed();
    });

    const publisher = await model.createConfirmChannel();
    const result = await measure(async (marks) => {
      marks.start();
      const confirms = workload.requests.map(
        (req) =>
          new Promise<void>((resolve, reject) => {
            publisher.publish(
              exchange,
              routingKey,
              Buffer.from(JSON.stringify(req), "utf8"),
              {
                persistent: true,
                mandatory: true,
                contentType: "application/json",
                messageId: req.request_id,
                type: req.schema_version,
                headers: { "x-schema": req.schema_version },
              },
              (error: Error | null) => (error ? reject(error) : resolve()),
            );
          }),
      );
      await Promise.all(confirms);
      marks.published();
      await done;
    });

    await publisher.close();
    await consumer.close();
    await setup.deleteQueue(queue);
    await setup.deleteExchange(exchange);
    await setup.close();
    return result;
  } finally {
    await model.close();
  }
}
