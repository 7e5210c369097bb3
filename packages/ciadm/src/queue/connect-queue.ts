import { hostname } from "node:os";
import { AmqpJobQueue, type MqConfig } from "@solstice/common";

/** Connects to RabbitMQ as ciadm (10 s to connect), runs `use`, and closes the connection. */
export async function withQueue<T>(config: MqConfig, use: (queue: AmqpJobQueue) => Promise<T>): Promise<T> {
  const queue = await AmqpJobQueue.connect({
    config,
    connectionName: `ciadm@${hostname()}`,
    connectTimeoutMs: 10_000,
  });
  try {
    return await use(queue);
  } finally {
    await queue.close({ timeoutMs: 5_000 });
  }
}
