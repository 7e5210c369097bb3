import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { connect } from "amqplib";
import { AMQP_URL } from "./services.ts";

// RabbitMQ names private to one test file: a unique prefix, the environment that puts every
// exchange and queue under it (for `mqConfigFromEnv` in the test, and for a child service), and
// their removal afterwards. Plain environment variables, so that this package needs nothing of
// @solstice/common (which depends on it for its own tests).

const run = promisify(execFile);

/** A prefix for every RabbitMQ name one test file declares: `test-<label>-<pid>-<random>`. */
export function mqPrefix(label: string): string {
  return `test-${label}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
}

/**
 * The queue settings' environment with every exchange and queue under `prefix`, on the test
 * broker, plus `overrides` (e.g. `{ AMQP_PREFETCH: 4 }`).
 *
 * @example
 *   const mq = mqConfigFromEnv(mqTestEnv(mqPrefix("fleet"), { AMQP_PREFETCH: 2 }));
 */
export function mqTestEnv(
  prefix: string,
  overrides: Readonly<Record<string, string | number>> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    AMQP_URL,
    AMQP_EXCHANGE: `${prefix}.jobs`,
    AMQP_QUEUE: `${prefix}.jobs.v1`,
    AMQP_DLX: `${prefix}.dlx`,
    AMQP_DLQ: `${prefix}.jobs.v1.dlq`,
    AMQP_EVENTS_EXCHANGE: `${prefix}.events`,
    AMQP_EVENTS_UNROUTED: `${prefix}.events.unrouted`,
    AMQP_CANCEL_EXCHANGE: `${prefix}.cancel`,
  };
  for (const [name, value] of Object.entries(overrides)) env[name] = String(value);
  return env;
}

/** The names of the broker's queues that start with `prefix`. */
export async function queuesByPrefix(prefix: string): Promise<string[]> {
  return (await run("rabbitmqctl", ["-q", "list_queues", "name"])).stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((name) => name.startsWith(prefix));
}

/** Deletes every queue and exchange whose name starts with `prefix`. */
export async function deleteMqByPrefix(prefix: string): Promise<void> {
  const names = async (kind: "list_exchanges") =>
    (await run("rabbitmqctl", ["-q", kind, "name"])).stdout
      .split("\n")
      .map((line) => line.trim())
      .filter((name) => name.startsWith(prefix));
  const queues = await queuesByPrefix(prefix);
  const exchanges = await names("list_exchanges");
  const model = await connect(AMQP_URL);
  try {
    const channel = await model.createChannel();
    for (const queue of queues) await channel.deleteQueue(queue);
    for (const exchange of exchanges) await channel.deleteExchange(exchange);
    await channel.close();
  } finally {
    await model.close();
  }
}
