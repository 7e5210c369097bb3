import { hostname } from "node:os";
import { QueueClosedError } from "../../errors.ts";
import { type ServiceLogger, silentLogger } from "../../telemetry/service-logger.ts";
import type {
  ConsumeOptions,
  DeadLetterQueue,
  DeliveryHandler,
  MessageBroker,
  OutgoingMessage,
  QueueStats,
  Subscription,
} from "../broker.ts";
import { DeliveryProcessor } from "../delivery-processor.ts";
import { type MqConfig, redactAmqpUrl } from "../mq-config.ts";
import { notifyPublishFailure } from "../mq-diagnostics.ts";
import { baseTopology, type Topology } from "../topology.ts";
import { AmqpConnection } from "./amqp-connection.ts";
import { AmqpConsumer } from "./amqp-consumer.ts";
import { AmqpDeadLetterQueue } from "./amqp-dead-letters.ts";
import { ConfirmPublisher } from "./confirm-publisher.ts";

/** How an AmqpBroker connects and logs. */
export interface AmqpBrokerOptions {
  readonly config: MqConfig;
  readonly logger?: ServiceLogger;
  /** Names the connection in `rabbitmqctl list_connections`; default `solstice@<host>:<pid>`. */
  readonly connectionName?: string;
}

/**
 * The RabbitMQ transport: one self-healing connection, one confirm channel for publishing, one
 * channel per consumer. The base topology (`baseTopology(config)`) is declared on every connection.
 *
 * @example
 *   const broker = AmqpBroker.start({ config: mqConfigFromEnv() });
 *   await broker.waitUntilConnected(10_000);
 *   await broker.publish({ exchange: "solstice.jobs", routingKey: "jobrequest.v1", body, messageId });
 */
export class AmqpBroker implements MessageBroker {
  readonly config: MqConfig;
  readonly #logger: ServiceLogger;
  readonly #connection: AmqpConnection;
  readonly #publisher: ConfirmPublisher;
  readonly #consumers = new Set<AmqpConsumer>();
  #closed = false;

  private constructor(options: AmqpBrokerOptions) {
    this.config = options.config;
    this.#logger = options.logger ?? silentLogger;
    this.#connection = new AmqpConnection(
      {
        url: options.config.url,
        reconnectMaxDelayMs: options.config.reconnectMaxDelayMs,
        connectionName: options.connectionName ?? `solstice@${hostname()}:${process.pid}`,
        logger: this.#logger,
      },
      baseTopology(options.config),
    );
    this.#publisher = new ConfirmPublisher(this.#connection, {
      logger: this.#logger,
      timeoutMs: options.config.publishTimeoutMs,
    });
    this.#connection.add(this.#publisher);
  }

  /** Creates the broker and starts connecting in the background (never throws for an absent broker). */
  static start(options: AmqpBrokerOptions): AmqpBroker {
    const broker = new AmqpBroker(options);
    broker.#connection.start();
    return broker;
  }

  /** True while connected. */
  get connected(): boolean {
    return this.#connection.current !== undefined;
  }

  /** The broker URL with the password masked. */
  get displayUrl(): string {
    return redactAmqpUrl(this.config.url);
  }

  /**
   * Waits for the first (or next) connection, topology declared.
   * @throws BrokerUnavailableError after `timeoutMs` (default: the publish timeout).
   */
  async waitUntilConnected(timeoutMs: number = this.config.publishTimeoutMs): Promise<void> {
    await this.#connection.whenOpen(timeoutMs);
  }

  async declare(topology: Topology): Promise<void> {
    this.#assertOpen("declare");
    await this.#connection.declare(topology, this.config.publishTimeoutMs);
  }

  publish(message: OutgoingMessage): Promise<void> {
    const published = this.#closed
      ? Promise.reject(new QueueClosedError("publish"))
      : this.#publisher.publish(message);
    return published.catch((error: unknown) => {
      notifyPublishFailure(message, error);
      throw error;
    });
  }

  async consume(queue: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
    this.#assertOpen("consume");
    const processor = new DeliveryProcessor({
      queue,
      handler,
      retry: {
        maxAttempts: options.maxAttempts ?? this.config.maxAttempts,
        retryDelayMs: options.retryDelayMs ?? this.config.retryDelayMs,
      },
      deadLetterExchange: this.config.dlx,
      publish: (message) => this.#publisher.publish(message),
      logger: this.#logger,
    });
    const consumer = new AmqpConsumer(this.#connection, {
      queue,
      prefetch: options.prefetch,
      topology: options.topology,
      processor,
      logger: this.#logger,
    });
    this.#consumers.add(consumer);
    try {
      await consumer.start(this.config.publishTimeoutMs);
    } catch (error) {
      this.#consumers.delete(consumer);
      throw error;
    }
    return {
      queue,
      cancel: async (cancelOptions) => {
        this.#consumers.delete(consumer);
        await consumer.cancel(cancelOptions);
      },
    };
  }

  async deleteQueueIfEmpty(queue: string): Promise<boolean> {
    this.#assertOpen("delete a queue");
    return this.#connection.deleteQueueIfEmpty(queue, this.config.publishTimeoutMs);
  }

  async inspectQueue(queue: string): Promise<QueueStats | undefined> {
    this.#assertOpen("inspect a queue");
    return this.#connection.inspectQueue(queue, this.config.publishTimeoutMs);
  }

  deadLetters(queue: string): DeadLetterQueue {
    return new AmqpDeadLetterQueue(queue, this.#connection, {
      publish: (message) => this.publish(message),
      timeoutMs: this.config.publishTimeoutMs,
      logger: this.#logger,
    });
  }

  /**
   * Closes in two phases: consumers stop taking messages and their running handlers get up to
   * `timeoutMs` (default 30 s) to finish; publishes in flight get what remains of it. Then the
   * connection closes. Idempotent.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    const left = () => Math.max(0, deadline - Date.now());
    await Promise.all([...this.#consumers].map((consumer) => consumer.cancel({ timeoutMs: left() })));
    this.#consumers.clear();
    await this.#publisher.close(left());
    await this.#connection.close();
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new QueueClosedError(operation);
  }
}
