import type { Topology } from "./topology.ts";

/** AMQP header table, as amqplib reads and writes it (strings, numbers, booleans, nested tables). */
export type MessageHeaders = Record<string, unknown>;

/** A message to publish. The body is bytes; `json-codec.ts` makes it from a value and a schema. */
export interface OutgoingMessage {
  readonly exchange: string;
  readonly routingKey: string;
  readonly body: Buffer;
  /** Unique per message: consumers deduplicate and the DLQ is addressed by it. */
  readonly messageId: string;
  /** Default `application/json`. */
  readonly contentType?: string;
  /** The AMQP `type` property: the schema, e.g. `jobrequest.v1`. */
  readonly type?: string;
  readonly headers?: MessageHeaders;
  /** Overrides the broker's publish timeout for this message, in milliseconds. */
  readonly timeoutMs?: number;
}

/** A message as a consumer receives it. */
export interface Delivery {
  readonly body: Buffer;
  readonly messageId: string | undefined;
  readonly contentType: string | undefined;
  readonly type: string | undefined;
  readonly headers: MessageHeaders;
  /** Seconds since the epoch, when the publisher set it. */
  readonly timestamp: number | undefined;
  readonly exchange: string;
  readonly routingKey: string;
  /** The queue it was consumed from. */
  readonly queue: string;
  /** The broker delivered it before (to this or another consumer) without an ack. */
  readonly redelivered: boolean;
  /** 1 for the first time this consumer process handles it, then 2, 3, ... after failures. */
  readonly attempt: number;
}

/** Handles one delivery: resolve to ack; throw `PermanentError` to dead-letter; throw anything else to retry. */
export type DeliveryHandler = (delivery: Delivery) => Promise<void>;

/** How a consumer behaves. */
export interface ConsumeOptions {
  /** At most this many unacknowledged messages (handlers running) at once. */
  readonly prefetch: number;
  /** Declared (and re-declared after each reconnection) before consuming. */
  readonly topology?: Topology;
  /** Handler attempts before a failing message is dead-lettered; default from the config. */
  readonly maxAttempts?: number;
  /** First delay before requeueing a failed message; default from the config. */
  readonly retryDelayMs?: number;
}

/** A running consumer. */
export interface Subscription {
  /** The queue it consumes from. */
  readonly queue: string;
  /** Stops taking messages, then waits (up to `timeoutMs`, default 30 s) for running handlers. */
  cancel(options?: { timeoutMs?: number }): Promise<void>;
}

/** A dead-lettered message and why it was dead-lettered. */
export interface DeadLetter {
  readonly messageId: string | undefined;
  /** Why, for people: the handler's error or the schema problem. */
  readonly reason: string;
  /** Stable code: `MESSAGE_INVALID`, `MQ_PERMANENT_FAILURE`, `HANDLER_FAILED`, ... */
  readonly code: string;
  readonly originalExchange: string | undefined;
  readonly originalRoutingKey: string | undefined;
  readonly originalQueue: string | undefined;
  /** RFC 3339. */
  readonly failedAt: string | undefined;
  /** Handler attempts made before giving up. */
  readonly attempts: number | undefined;
  readonly type: string | undefined;
  readonly contentType: string | undefined;
  readonly headers: MessageHeaders;
  readonly body: Buffer;
}

/** Selects what `DeadLetterQueue.replay` sends back. */
export type ReplaySelector = { readonly messageId: string } | { readonly all: true };

/** Operator access to the dead-letter queue (`ciadm dlq list|replay|purge`). */
export interface DeadLetterQueue {
  readonly queue: string;
  /** The dead letters (oldest first, at most `limit`, default 1000), left in the queue. */
  list(options?: { limit?: number }): Promise<DeadLetter[]>;
  /**
   * Publishes dead letters back to their original exchange and routing key (reason headers
   * removed, `x-solstice-replays` incremented), then removes them from the DLQ. Returns how many.
   * @throws DeadLetterNotFoundError when a `messageId` is not in the queue.
   */
  replay(selector: ReplaySelector): Promise<number>;
  /** Deletes every dead letter; returns how many. */
  purge(): Promise<number>;
}

/**
 * The transport under `JobQueue`: RabbitMQ (`AmqpBroker`) or in memory (`MemoryBroker`), with
 * the same semantics: confirmed `mandatory` publishes, prefetch, ack after the handler, retries,
 * dead-lettering with the reason.
 */
export interface MessageBroker {
  /** Declares exchanges, queues and bindings (idempotent; re-declared after reconnection). */
  declare(topology: Topology): Promise<void>;
  /**
   * Publishes and resolves once the broker has confirmed it.
   * @throws UnroutableError, PublishNackedError, BrokerUnavailableError, QueueClosedError
   */
  publish(message: OutgoingMessage): Promise<void>;
  /** Starts a consumer; it survives reconnections until cancelled. */
  consume(queue: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription>;
  /** Admin access to a dead-letter queue. */
  deadLetters(queue: string): DeadLetterQueue;
  /**
   * Deletes a queue if it holds no message (with its bindings); true when it is gone (or never
   * was), false when it still holds messages (then it stays).
   */
  deleteQueueIfEmpty(queue: string): Promise<boolean>;
  /**
   * How many messages wait in `queue` (ready, not delivered) and how many consumers it has, by a
   * passive declaration; `undefined` when no such queue exists.
   */
  inspectQueue(queue: string): Promise<QueueStats | undefined>;
  /** Stops consumers, waits (up to `timeoutMs`, default 30 s) for handlers and publishes, disconnects. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** A queue's depth and consumers, as a passive declaration reports them. */
export interface QueueStats {
  readonly queue: string;
  /** Messages ready for delivery (not those delivered and unacknowledged). */
  readonly messages: number;
  readonly consumers: number;
}
