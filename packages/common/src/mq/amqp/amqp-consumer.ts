import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import { BrokerUnavailableError, TopologyMismatchError } from "../../errors.ts";
import type { ServiceLogger } from "../../telemetry/service-logger.ts";
import { backoffDelay, reconnectBackoff } from "../backoff.ts";
import type { Subscription } from "../broker.ts";
import type { DeliveryProcessor } from "../delivery-processor.ts";
import { errorFields } from "../error-fields.ts";
import type { Topology } from "../topology.ts";
import type { AmqpConnection, ConnectionParticipant } from "./amqp-connection.ts";
import { toDelivery } from "./amqp-delivery.ts";
import { declareTopology } from "./declare-topology.ts";

/** What an AMQP consumer consumes, and how. */
export interface AmqpConsumerOptions {
  readonly queue: string;
  readonly prefetch: number;
  readonly topology: Topology | undefined;
  readonly processor: DeliveryProcessor;
  readonly logger: ServiceLogger;
}

/**
 * A consumer registered once that follows the connection: on every (re)connection it opens its
 * own channel, declares its topology, sets the prefetch and subscribes again. A channel closed
 * under it (or a consumer cancelled by the broker, e.g. its queue deleted) is reopened with backoff.
 */
export class AmqpConsumer implements ConnectionParticipant, Subscription {
  readonly queue: string;
  readonly #connection: AmqpConnection;
  readonly #options: AmqpConsumerOptions;
  #model: ChannelModel | undefined;
  #channel: Channel | undefined;
  #consumerTag: string | undefined;
  #opening = false;
  #reopenAttempt = 0;
  #cancelled = false;
  #firstReady: { resolve: () => void; reject: (error: Error) => void } | undefined;
  #lastError: Error | undefined;

  constructor(connection: AmqpConnection, options: AmqpConsumerOptions) {
    this.queue = options.queue;
    this.#connection = connection;
    this.#options = options;
  }

  /**
   * Registers with the connection and resolves once subscribed (waiting up to `timeoutMs` for a
   * connection). Rejects, and unregisters, on a topology mismatch or when the broker stays away.
   */
  async start(timeoutMs: number): Promise<void> {
    const started = Date.now();
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const last = this.#lastError ?? this.#connection.lastError;
        reject(
          new BrokerUnavailableError(
            this.#connection.displayUrl,
            Date.now() - started,
            `could not start consuming from "${this.queue}"${last === undefined ? "" : ` (${last.message})`}`,
            { cause: last },
          ),
        );
      }, timeoutMs);
      this.#firstReady = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
    this.#connection.add(this);
    try {
      await ready;
    } catch (error) {
      this.#firstReady = undefined;
      await this.cancel({ timeoutMs: 0 });
      throw error;
    }
  }

  async attach(model: ChannelModel): Promise<void> {
    this.#model = model;
    if (this.#cancelled || this.#channel !== undefined || this.#opening) return;
    this.#opening = true;
    const { queue, prefetch, topology, logger } = this.#options;
    let channel: Channel | undefined;
    try {
      channel = await model.createChannel();
      const opened = channel;
      opened.on("error", (error: Error) =>
        logger.warn({ queue, ...errorFields(error) }, "consumer channel error"),
      );
      opened.once("close", () => this.#channelClosed(opened, model));
      if (topology !== undefined) await declareTopology(opened, topology);
      await opened.prefetch(prefetch);
      this.#channel = opened;
      const ok = await opened.consume(queue, (message) => this.#onMessage(opened, message), { noAck: false });
      this.#consumerTag = ok.consumerTag;
      if (this.#cancelled) {
        // cancel() ran while this subscription was being set up.
        this.#channel = undefined;
        await opened.close().catch(() => {});
        return;
      }
      this.#reopenAttempt = 0;
      logger.info({ queue, prefetch }, "consuming");
      this.#firstReady?.resolve();
      this.#firstReady = undefined;
    } catch (error) {
      if (this.#channel === channel) this.#channel = undefined;
      if (channel !== undefined) await channel.close().catch(() => {});
      if (error instanceof TopologyMismatchError && this.#firstReady !== undefined) {
        this.#firstReady.reject(error);
        this.#firstReady = undefined;
        return;
      }
      this.#lastError = error instanceof Error ? error : new Error(String(error));
      logger.warn({ queue, ...errorFields(error) }, "cannot start consuming; will retry");
      this.#scheduleReopen(model);
    } finally {
      this.#opening = false;
      // The connection changed while this one was opening: subscribe on the new one.
      const current = this.#model;
      if (current !== undefined && current !== model && this.#channel === undefined && !this.#cancelled) {
        void this.attach(current);
      }
    }
  }

  detach(): void {
    this.#model = undefined;
    this.#channel = undefined;
    this.#consumerTag = undefined;
  }

  async cancel(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#connection.remove(this);
    const channel = this.#channel;
    const tag = this.#consumerTag;
    if (channel !== undefined && tag !== undefined) await channel.cancel(tag).catch(() => {});
    const processor = this.#options.processor;
    processor.cutRetryDelays();
    const drained = await processor.idle(options.timeoutMs ?? 30_000);
    if (!drained) {
      this.#options.logger.warn(
        { queue: this.queue, running: processor.active },
        "handlers still running at cancel timeout; their messages return to the queue",
      );
    }
    this.#channel = undefined;
    // Closing the channel returns any message not yet acked to the queue.
    if (channel !== undefined) await channel.close().catch(() => {});
  }

  #onMessage(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled us (queue deleted, or node of a mirrored queue lost): start over.
      this.#options.logger.warn(
        { queue: this.queue },
        "the broker cancelled the consumer; subscribing again",
      );
      if (this.#channel === channel) void channel.close().catch(() => {});
      return;
    }
    const settle = (action: () => void) => {
      try {
        action();
      } catch {
        // The channel is gone: the broker requeues the message and delivers it again.
      }
    };
    this.#options.processor.process(toDelivery(message, this.queue), {
      ack: () => settle(() => channel.ack(message)),
      requeue: () => settle(() => channel.nack(message, false, true)),
      reject: () => settle(() => channel.nack(message, false, false)),
    });
  }

  #channelClosed(channel: Channel, model: ChannelModel): void {
    if (this.#channel !== channel) return;
    this.#channel = undefined;
    this.#consumerTag = undefined;
    if (!this.#cancelled) this.#scheduleReopen(model);
  }

  #scheduleReopen(model: ChannelModel): void {
    if (this.#cancelled) return;
    this.#reopenAttempt++;
    const delay = backoffDelay(reconnectBackoff(10_000), this.#reopenAttempt);
    setTimeout(() => {
      if (this.#model === model && this.#connection.current === model) void this.attach(model);
    }, delay).unref();
  }
}
