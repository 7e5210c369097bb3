import type { Channel } from "amqplib";
import { DeadLetterNotFoundError } from "../../errors.ts";
import type { ServiceLogger } from "../../telemetry/service-logger.ts";
import type { DeadLetter, DeadLetterQueue, OutgoingMessage, ReplaySelector } from "../broker.ts";
import { readDeadLetter, replayMessage } from "../dead-letter-headers.ts";
import type { AmqpConnection } from "./amqp-connection.ts";
import { toDelivery } from "./amqp-delivery.ts";

/**
 * The dead-letter queue over AMQP. Messages are read with basic.get without ack and held until
 * the work is done; closing the channel then returns those not replayed to the queue, in their
 * place (RabbitMQ requeues to the original position).
 */
export class AmqpDeadLetterQueue implements DeadLetterQueue {
  readonly queue: string;
  readonly #connection: AmqpConnection;
  readonly #publish: (message: OutgoingMessage) => Promise<void>;
  readonly #timeoutMs: number;
  readonly #logger: ServiceLogger;

  constructor(
    queue: string,
    connection: AmqpConnection,
    options: {
      publish: (message: OutgoingMessage) => Promise<void>;
      timeoutMs: number;
      logger: ServiceLogger;
    },
  ) {
    this.queue = queue;
    this.#connection = connection;
    this.#publish = options.publish;
    this.#timeoutMs = options.timeoutMs;
    this.#logger = options.logger;
  }

  async list(options: { limit?: number } = {}): Promise<DeadLetter[]> {
    const limit = options.limit ?? 1_000;
    return this.#withChannel(async (channel) => {
      const letters: DeadLetter[] = [];
      while (letters.length < limit) {
        const message = await channel.get(this.queue, { noAck: false });
        if (message === false) break;
        letters.push(readDeadLetter({ ...toDelivery(message, this.queue), attempt: 1 }));
      }
      return letters;
    });
  }

  async replay(selector: ReplaySelector): Promise<number> {
    const wanted = "messageId" in selector ? selector.messageId : undefined;
    return this.#withChannel(async (channel) => {
      let replayed = 0;
      // Bound the walk by what was there at the start: a replayed message that fails again
      // comes back to this queue and must not be replayed twice in one call.
      let remaining = Number.POSITIVE_INFINITY;
      while (remaining > 0) {
        const message = await channel.get(this.queue, { noAck: false });
        if (message === false) break;
        if (remaining === Number.POSITIVE_INFINITY) remaining = message.fields.messageCount + 1;
        remaining--;
        const letter = readDeadLetter({ ...toDelivery(message, this.queue), attempt: 1 });
        if (wanted !== undefined && letter.messageId !== wanted) continue;
        const outgoing = replayMessage(letter);
        if (outgoing === undefined) {
          this.#logger.warn(
            { queue: this.queue, messageId: letter.messageId },
            "dead letter has no known origin; kept",
          );
          if (wanted !== undefined) return replayed;
          continue;
        }
        await this.#publish(outgoing);
        channel.ack(message);
        replayed++;
        if (wanted !== undefined) return replayed;
      }
      if (wanted !== undefined) throw new DeadLetterNotFoundError(this.queue, wanted);
      return replayed;
    });
  }

  async purge(): Promise<number> {
    return this.#withChannel(async (channel) => (await channel.purgeQueue(this.queue)).messageCount);
  }

  async #withChannel<T>(work: (channel: Channel) => Promise<T>): Promise<T> {
    const model = await this.#connection.whenOpen(this.#timeoutMs);
    const channel = await model.createChannel();
    channel.on("error", () => {});
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(() => {});
    }
  }
}
