import {
  DeadLetterNotFoundError,
  QueueClosedError,
  TopologyMismatchError,
  UnroutableError,
} from "../../errors.ts";
import { type ServiceLogger, silentLogger } from "../../telemetry/service-logger.ts";
import type {
  ConsumeOptions,
  DeadLetter,
  DeadLetterQueue,
  Delivery,
  DeliveryHandler,
  MessageBroker,
  MessageHeaders,
  OutgoingMessage,
  QueueStats,
  ReplaySelector,
  Subscription,
} from "../broker.ts";
import { readDeadLetter, replayMessage } from "../dead-letter-headers.ts";
import { DeliveryProcessor } from "../delivery-processor.ts";
import { FifoQueue } from "../fifo-queue.ts";
import type { ExchangeSpec, QueueSpec, Topology } from "../topology.ts";
import { endSpanWithError, startPublishSpan } from "../trace-context.ts";
import { topicMatches } from "./topic-match.ts";

type StoredMessage = Omit<Delivery, "attempt" | "queue">;

interface MemoryExchange {
  readonly spec: ExchangeSpec;
  readonly bindings: { queue: string; routingKey: string }[];
}

interface InFlight {
  readonly message: StoredMessage;
  settled: boolean;
}

interface MemoryConsumer {
  readonly queue: string;
  readonly prefetch: number;
  readonly processor: DeliveryProcessor;
  readonly inFlight: Set<InFlight>;
  cancelled: boolean;
}

interface MemoryQueue {
  readonly spec: QueueSpec;
  readonly messages: FifoQueue<StoredMessage>;
  readonly consumers: MemoryConsumer[];
  next: number;
  scheduled: boolean;
}

/** Retry limits used when a consumer does not set its own. */
export interface MemoryBrokerOptions {
  readonly maxAttempts: number;
  readonly retryDelayMs: number;
  /** Where dead letters are republished with their reason. */
  readonly deadLetterExchange: string;
  readonly logger?: ServiceLogger;
}

function sameSpec<T extends object>(a: T, b: T): boolean {
  return JSON.stringify(a, Object.keys(a).sort()) === JSON.stringify(b, Object.keys(b).sort());
}

/**
 * RabbitMQ's semantics in memory, for the embedded single-node mode and unit tests: direct,
 * fanout and topic exchanges with alternate exchanges; durable-like queues (for the process's
 * life) with max length and dead-letter exchange; `mandatory` publishes rejected when unroutable;
 * per-consumer prefetch, ack, requeue and reject, all through the same DeliveryProcessor as AMQP.
 */
export class MemoryBroker implements MessageBroker {
  readonly #options: MemoryBrokerOptions;
  readonly #logger: ServiceLogger;
  readonly #exchanges = new Map<string, MemoryExchange>();
  readonly #queues = new Map<string, MemoryQueue>();
  readonly #consumers = new Set<MemoryConsumer>();
  #closed = false;

  constructor(options: MemoryBrokerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  async declare(topology: Topology): Promise<void> {
    this.declareNow(topology);
  }

  /** `declare`, synchronously (nothing here waits). */
  declareNow(topology: Topology): void {
    if (this.#closed) throw new QueueClosedError("declare");
    for (const spec of topology.exchanges) {
      const existing = this.#exchanges.get(spec.name);
      if (existing === undefined) this.#exchanges.set(spec.name, { spec, bindings: [] });
      else if (!sameSpec(existing.spec, spec)) throw this.#mismatch(spec.name, "exchange");
    }
    for (const spec of topology.queues) {
      const existing = this.#queues.get(spec.name);
      if (existing === undefined) {
        this.#queues.set(spec.name, {
          spec,
          messages: new FifoQueue(),
          consumers: [],
          next: 0,
          scheduled: false,
        });
      } else if (!sameSpec(existing.spec, spec)) throw this.#mismatch(spec.name, "queue");
    }
    for (const binding of topology.bindings) {
      const exchange = this.#exchanges.get(binding.exchange);
      if (exchange === undefined || !this.#queues.has(binding.queue)) {
        throw new TopologyMismatchError(
          binding.queue,
          `cannot bind to missing exchange or queue ${binding.exchange}`,
        );
      }
      if (!exchange.bindings.some((b) => b.queue === binding.queue && b.routingKey === binding.routingKey)) {
        exchange.bindings.push({ queue: binding.queue, routingKey: binding.routingKey });
      }
    }
  }

  async publish(message: OutgoingMessage): Promise<void> {
    if (this.#closed) throw new QueueClosedError("publish");
    const { span, headers } = startPublishSpan(message);
    try {
      const queues = this.#route(message.exchange, message.routingKey, message.messageId);
      const stored: StoredMessage = {
        body: Buffer.from(message.body),
        messageId: message.messageId,
        contentType: message.contentType ?? "application/json",
        type: message.type,
        headers,
        timestamp: Math.floor(Date.now() / 1000),
        exchange: message.exchange,
        routingKey: message.routingKey,
        redelivered: false,
      };
      for (const queue of queues) this.#enqueue(queue, { ...stored, headers: { ...headers } });
      span.end();
    } catch (error) {
      endSpanWithError(span, error);
      throw error;
    }
  }

  async consume(queue: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
    if (this.#closed) throw new QueueClosedError("consume");
    if (options.topology !== undefined) await this.declare(options.topology);
    const target = this.#queues.get(queue);
    if (target === undefined) {
      throw new TopologyMismatchError(queue, `NOT_FOUND - no queue '${queue}'`);
    }
    const consumer: MemoryConsumer = {
      queue,
      prefetch: options.prefetch,
      inFlight: new Set(),
      cancelled: false,
      processor: new DeliveryProcessor({
        queue,
        handler,
        retry: {
          maxAttempts: options.maxAttempts ?? this.#options.maxAttempts,
          retryDelayMs: options.retryDelayMs ?? this.#options.retryDelayMs,
        },
        deadLetterExchange: this.#options.deadLetterExchange,
        publish: (message) => this.publish(message),
        logger: this.#logger,
      }),
    };
    target.consumers.push(consumer);
    this.#consumers.add(consumer);
    this.#schedule(target);
    return { queue, cancel: (cancelOptions) => this.#cancel(consumer, cancelOptions?.timeoutMs ?? 30_000) };
  }

  deadLetters(queue: string): DeadLetterQueue {
    return new MemoryDeadLetterQueue(queue, this);
  }

  async deleteQueueIfEmpty(queue: string): Promise<boolean> {
    const target = this.#queues.get(queue);
    if (target === undefined) return true;
    const unacked = target.consumers.some((c) => c.inFlight.size > 0);
    if (target.messages.length > 0 || unacked) return false;
    this.#queues.delete(queue);
    for (const exchange of this.#exchanges.values()) {
      const kept = exchange.bindings.filter((b) => b.queue !== queue);
      exchange.bindings.splice(0, exchange.bindings.length, ...kept);
    }
    return true;
  }

  async inspectQueue(queue: string): Promise<QueueStats | undefined> {
    const target = this.#queues.get(queue);
    if (target === undefined) return undefined;
    const consumers = target.consumers.filter((consumer) => !consumer.cancelled).length;
    return { queue, messages: target.messages.length, consumers };
  }

  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    await Promise.all([...this.#consumers].map((c) => this.#cancel(c, Math.max(0, deadline - Date.now()))));
    this.#closed = true;
  }

  /** Messages waiting in a queue (not delivered to a consumer), oldest first. */
  peek(queue: string): readonly StoredMessage[] {
    const q = this.#queues.get(queue);
    return q === undefined ? [] : [...q.messages];
  }

  /** Removes and returns the waiting messages of `queue` that `predicate` selects. */
  take(queue: string, predicate: (message: StoredMessage) => boolean): StoredMessage[] {
    return this.#queues.get(queue)?.messages.removeWhere(predicate) ?? [];
  }

  /** Puts messages back at the head of `queue`, in order. */
  putBack(queue: string, messages: readonly StoredMessage[]): void {
    this.#queues.get(queue)?.messages.unshiftAll(messages);
  }

  /** The number of messages waiting in `queue`. */
  depth(queue: string): number {
    return this.#queues.get(queue)?.messages.length ?? 0;
  }

  #mismatch(name: string, kind: string): TopologyMismatchError {
    return new TopologyMismatchError(
      name,
      `PRECONDITION_FAILED - ${kind} '${name}' exists with other settings`,
    );
  }

  #route(exchangeName: string, routingKey: string, messageId: string): Set<string> {
    const exchange = this.#exchanges.get(exchangeName);
    if (exchange === undefined) {
      throw new UnroutableError({
        exchange: exchangeName,
        routingKey,
        messageId,
        replyCode: 404,
        replyText: `NOT_FOUND - no exchange '${exchangeName}'`,
      });
    }
    const queues = new Set<string>();
    for (const binding of exchange.bindings) {
      const type = exchange.spec.type;
      if (type === "fanout" || (type === "direct" && binding.routingKey === routingKey))
        queues.add(binding.queue);
      else if (type === "topic" && topicMatches(binding.routingKey, routingKey)) queues.add(binding.queue);
    }
    if (queues.size === 0 && exchange.spec.alternateExchange !== undefined) {
      return this.#route(exchange.spec.alternateExchange, routingKey, messageId);
    }
    if (queues.size === 0) {
      throw new UnroutableError({
        exchange: exchangeName,
        routingKey,
        messageId,
        replyCode: 312,
        replyText: "NO_ROUTE",
      });
    }
    return queues;
  }

  #enqueue(queueName: string, message: StoredMessage): void {
    const queue = this.#queues.get(queueName);
    if (queue === undefined) return;
    queue.messages.push(message);
    const max = queue.spec.maxLength;
    while (max !== undefined && queue.messages.length > max) queue.messages.shift();
    this.#schedule(queue);
  }

  #schedule(queue: MemoryQueue): void {
    if (queue.scheduled) return;
    queue.scheduled = true;
    setImmediate(() => {
      queue.scheduled = false;
      this.#dispatch(queue);
    });
  }

  // Round-robin over consumers with room under their prefetch, as RabbitMQ does.
  #dispatch(queue: MemoryQueue): void {
    while (queue.messages.length > 0) {
      const consumers = queue.consumers;
      let chosen: MemoryConsumer | undefined;
      for (let i = 0; i < consumers.length; i++) {
        const candidate = consumers[(queue.next + i) % consumers.length] as MemoryConsumer;
        if (!candidate.cancelled && candidate.inFlight.size < candidate.prefetch) {
          chosen = candidate;
          queue.next = (queue.next + i + 1) % consumers.length;
          break;
        }
      }
      if (chosen === undefined) return;
      this.#deliver(queue, chosen, queue.messages.shift() as StoredMessage);
    }
  }

  #deliver(queue: MemoryQueue, consumer: MemoryConsumer, message: StoredMessage): void {
    const entry: InFlight = { message, settled: false };
    consumer.inFlight.add(entry);
    const settle = (action: () => void) => () => {
      if (entry.settled) return;
      entry.settled = true;
      consumer.inFlight.delete(entry);
      action();
      this.#schedule(queue);
    };
    consumer.processor.process(
      { ...message, queue: queue.spec.name },
      {
        ack: settle(() => {}),
        requeue: settle(() => queue.messages.unshiftAll([{ ...message, redelivered: true }])),
        reject: settle(() => this.#deadLetterByBroker(queue, message)),
      },
    );
  }

  // What RabbitMQ does on nack without requeue: route to the queue's x-dead-letter-exchange with x-death.
  #deadLetterByBroker(queue: MemoryQueue, message: StoredMessage): void {
    const dlx = queue.spec.deadLetterExchange;
    if (dlx === undefined) return;
    const headers: MessageHeaders = {
      ...message.headers,
      "x-death": [
        {
          count: 1,
          reason: "rejected",
          queue: queue.spec.name,
          exchange: message.exchange,
          "routing-keys": [message.routingKey],
          time: { "!": "timestamp", value: Math.floor(Date.now() / 1000) },
        },
      ],
    };
    try {
      for (const target of this.#route(dlx, message.routingKey, message.messageId ?? "")) {
        this.#enqueue(target, { ...message, headers, redelivered: false });
      }
    } catch {
      // Unroutable dead letters are dropped, as by RabbitMQ.
    }
  }

  async #cancel(consumer: MemoryConsumer, timeoutMs: number): Promise<void> {
    if (consumer.cancelled) return;
    consumer.cancelled = true;
    this.#consumers.delete(consumer);
    const queue = this.#queues.get(consumer.queue);
    if (queue !== undefined) {
      const at = queue.consumers.indexOf(consumer);
      if (at >= 0) queue.consumers.splice(at, 1);
    }
    consumer.processor.cutRetryDelays();
    const drained = await consumer.processor.idle(timeoutMs);
    if (!drained && queue !== undefined) {
      // As when an AMQP channel closes: unfinished messages go back to the queue.
      const unfinished = [...consumer.inFlight];
      for (const entry of unfinished) entry.settled = true;
      consumer.inFlight.clear();
      queue.messages.unshiftAll(unfinished.map((e) => ({ ...e.message, redelivered: true })));
      this.#schedule(queue);
    }
  }
}

/** The dead-letter queue of a MemoryBroker. */
class MemoryDeadLetterQueue implements DeadLetterQueue {
  readonly queue: string;
  readonly #broker: MemoryBroker;

  constructor(queue: string, broker: MemoryBroker) {
    this.queue = queue;
    this.#broker = broker;
  }

  async list(options: { limit?: number } = {}): Promise<DeadLetter[]> {
    return this.#broker
      .peek(this.queue)
      .slice(0, options.limit ?? 1_000)
      .map((m) => readDeadLetter({ ...m, queue: this.queue, attempt: 1 }));
  }

  async replay(selector: ReplaySelector): Promise<number> {
    const wanted = "messageId" in selector ? selector.messageId : undefined;
    let taken = 0;
    const chosen = this.#broker.take(this.queue, (m) => {
      if (wanted !== undefined && (taken > 0 || m.messageId !== wanted)) return false;
      if (replayMessage(readDeadLetter({ ...m, queue: this.queue, attempt: 1 })) === undefined) return false;
      taken++;
      return true;
    });
    if (wanted !== undefined && chosen.length === 0) throw new DeadLetterNotFoundError(this.queue, wanted);
    let replayed = 0;
    for (const [index, message] of chosen.entries()) {
      const outgoing = replayMessage(readDeadLetter({ ...message, queue: this.queue, attempt: 1 }));
      if (outgoing === undefined) continue;
      try {
        await this.#broker.publish(outgoing);
      } catch (error) {
        // Not replayed: back into the DLQ, as an AMQP channel close would do.
        this.#broker.putBack(this.queue, chosen.slice(index));
        throw error;
      }
      replayed++;
    }
    return replayed;
  }

  async purge(): Promise<number> {
    return this.#broker.take(this.queue, () => true).length;
  }
}
