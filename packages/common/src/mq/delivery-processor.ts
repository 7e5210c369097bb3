import { createHash } from "node:crypto";
import { context } from "@opentelemetry/api";
import type { ServiceLogger } from "../telemetry/service-logger.ts";
import type { Delivery, DeliveryHandler, OutgoingMessage } from "./broker.ts";
import { deadLetterMessage } from "./dead-letter-headers.ts";
import { errorFields } from "./error-fields.ts";
import { decideFailure, type RetryPolicy } from "./failure-policy.ts";
import { notifyDeadLettering } from "./mq-diagnostics.ts";
import { endSpanWithError, startProcessSpan } from "./trace-context.ts";

/** How the transport settles one delivery. Each is called at most once per delivery. */
export interface Settlement {
  ack(): void;
  /** Back to the queue, for another attempt. */
  requeue(): void;
  /** Nack without requeue: the queue's own dead-letter exchange takes it. */
  reject(): void;
}

/** What a processor needs from its consumer. */
export interface DeliveryProcessorOptions {
  readonly queue: string;
  readonly handler: DeliveryHandler;
  readonly retry: RetryPolicy;
  /** Where dead letters are republished with their reason; undefined: plain reject. */
  readonly deadLetterExchange: string | undefined;
  /** A confirmed publish (the broker's own). */
  readonly publish: (message: OutgoingMessage) => Promise<void>;
  readonly logger: ServiceLogger;
}

// Enough to remember the attempts of every message a consumer can hold and then some.
const MAX_TRACKED_MESSAGES = 10_000;
// Dead-lettering must not hang a consumer slot for a whole outage: fall back to reject.
const DEAD_LETTER_PUBLISH_TIMEOUT_MS = 10_000;

/**
 * Runs a consumer's handler on each delivery, inside a consumer span whose parent is the
 * publisher's span, and settles it: ack on success; on failure, dead-letter (republish with the
 * reason to the DLX, confirmed, then ack; reject if that fails) or requeue after a delay.
 * Shared by the RabbitMQ and the in-memory transports so both behave the same.
 */
export class DeliveryProcessor {
  readonly #options: DeliveryProcessorOptions;
  // Attempts per message id: nack/requeue leaves no trace in the message, so count here.
  readonly #attempts = new Map<string, number>();
  readonly #retryWaits = new Set<() => void>();
  #active = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(options: DeliveryProcessorOptions) {
    this.#options = options;
  }

  /** Deliveries being handled (or waiting to be requeued). */
  get active(): number {
    return this.#active;
  }

  /** Handles one delivery; never throws (failures are settled and logged). */
  process(delivery: Omit<Delivery, "attempt">, settle: Settlement): void {
    this.#active++;
    this.#run(delivery, settle)
      .catch((error: unknown) => {
        // #run settles every outcome itself; this is only a last guard against a lost promise.
        this.#options.logger.error(
          { queue: this.#options.queue, ...errorFields(error) },
          "delivery processing failed",
        );
      })
      .finally(() => {
        this.#active--;
        if (this.#active === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
      });
  }

  /** Resolves true once no delivery is in progress, false if `timeoutMs` passes first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Requeues at once every message waiting out its retry delay (used when closing). */
  cutRetryDelays(): void {
    for (const wake of [...this.#retryWaits]) wake();
  }

  #key(delivery: Omit<Delivery, "attempt">): string {
    return (
      delivery.messageId ?? createHash("sha1").update(delivery.routingKey).update(delivery.body).digest("hex")
    );
  }

  // Only failed messages are remembered: the happy path costs one lookup.
  #rememberFailure(key: string, attempt: number): void {
    this.#attempts.delete(key);
    this.#attempts.set(key, attempt);
    if (this.#attempts.size > MAX_TRACKED_MESSAGES) {
      const oldest = this.#attempts.keys().next();
      if (!oldest.done) this.#attempts.delete(oldest.value);
    }
  }

  async #run(incoming: Omit<Delivery, "attempt">, settle: Settlement): Promise<void> {
    const { handler } = this.#options;
    const key = this.#key(incoming);
    const previous = this.#attempts.size === 0 ? undefined : this.#attempts.get(key);
    const delivery: Delivery = { ...incoming, attempt: (previous ?? 0) + 1 };
    const { span, context: spanContext } = startProcessSpan(delivery);
    try {
      await context.with(spanContext, () => handler(delivery));
    } catch (error) {
      endSpanWithError(span, error);
      await this.#failed(delivery, key, error, settle);
      return;
    }
    span.end();
    if (previous !== undefined) this.#attempts.delete(key);
    settle.ack();
  }

  async #failed(delivery: Delivery, key: string, error: unknown, settle: Settlement): Promise<void> {
    const { logger, queue, retry } = this.#options;
    const decision = decideFailure(error, delivery.attempt, retry);
    const fields = { queue, messageId: delivery.messageId, attempt: delivery.attempt, ...errorFields(error) };
    if (decision.action === "retry") {
      this.#rememberFailure(key, delivery.attempt);
      logger.warn({ ...fields, retryInMs: decision.delayMs }, "handler failed; message will be retried");
      await this.#wait(decision.delayMs);
      settle.requeue();
      return;
    }
    this.#attempts.delete(key);
    logger.error({ ...fields, reason: decision.reason, code: decision.code }, "message dead-lettered");
    notifyDeadLettering({ queue, code: decision.code });
    await this.#deadLetter(
      delivery,
      { reason: decision.reason, code: decision.code, attempts: delivery.attempt },
      settle,
    );
  }

  async #deadLetter(
    delivery: Delivery,
    cause: { reason: string; code: string; attempts: number },
    settle: Settlement,
  ): Promise<void> {
    const { deadLetterExchange, publish, logger, queue } = this.#options;
    if (deadLetterExchange === undefined) {
      settle.reject();
      return;
    }
    try {
      await publish({
        ...deadLetterMessage(delivery, deadLetterExchange, cause, new Date()),
        timeoutMs: DEAD_LETTER_PUBLISH_TIMEOUT_MS,
      });
      settle.ack();
    } catch (error) {
      // The queue's x-dead-letter-exchange still gets it, with x-death but without our reason.
      logger.warn(
        { queue, messageId: delivery.messageId, ...errorFields(error) },
        "could not republish the dead letter with its reason; rejecting it instead",
      );
      settle.reject();
    }
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#retryWaits.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#retryWaits.add(wake);
    });
  }
}
