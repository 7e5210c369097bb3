import type { Channel, Options } from "amqplib";
import { TopologyMismatchError } from "../../errors.ts";
import type { QueueSpec, Topology } from "../topology.ts";

// 406 PRECONDITION_FAILED: the entity exists with other properties.
const PRECONDITION_FAILED = 406;

function queueOptions(spec: QueueSpec): Options.AssertQueue {
  return {
    durable: true,
    autoDelete: false,
    exclusive: false,
    ...(spec.deadLetterExchange === undefined ? {} : { deadLetterExchange: spec.deadLetterExchange }),
    ...(spec.maxLength === undefined ? {} : { maxLength: spec.maxLength, overflow: "drop-head" }),
    ...(spec.expiresMs === undefined ? {} : { expires: spec.expiresMs }),
  };
}

async function step<T>(entity: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === PRECONDITION_FAILED) {
      throw new TopologyMismatchError(entity, error instanceof Error ? error.message : String(error), {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Declares a topology on `channel`: exchanges, then queues, then bindings; everything durable.
 * A refused declaration closes the channel (AMQP rule): use a channel dedicated to it.
 * @throws TopologyMismatchError when an entity exists with other properties.
 */
export async function declareTopology(channel: Channel, topology: Topology): Promise<void> {
  for (const ex of topology.exchanges) {
    await step(ex.name, () =>
      channel.assertExchange(ex.name, ex.type, {
        durable: true,
        autoDelete: false,
        internal: false,
        ...(ex.alternateExchange === undefined ? {} : { alternateExchange: ex.alternateExchange }),
      }),
    );
  }
  for (const q of topology.queues) await step(q.name, () => channel.assertQueue(q.name, queueOptions(q)));
  for (const b of topology.bindings) {
    await step(b.queue, () => channel.bindQueue(b.queue, b.exchange, b.routingKey));
  }
}
