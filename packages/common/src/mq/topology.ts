import { JOB_EVENT_ROUTING_PREFIX, type JobOwner, jobEventRoutingKey } from "../messages/index.ts";
import type { MqConfig } from "./mq-config.ts";

/** AMQP exchange types Solstice uses. */
export type ExchangeType = "direct" | "fanout" | "topic";

/** An exchange to declare (always durable, never auto-deleted). */
export interface ExchangeSpec {
  readonly name: string;
  readonly type: ExchangeType;
  /** Where messages no binding matches go instead of being returned. */
  readonly alternateExchange?: string;
}

/** A queue to declare (always durable, never exclusive). */
export interface QueueSpec {
  readonly name: string;
  /** `x-dead-letter-exchange`: where rejected (nack without requeue) messages go. */
  readonly deadLetterExchange?: string;
  /** `x-max-length`, with `x-overflow: drop-head` (the oldest go first). */
  readonly maxLength?: number;
  /** `x-expires`: the broker deletes the queue after this long unused. */
  readonly expiresMs?: number;
}

/** Binds a queue to an exchange. */
export interface BindingSpec {
  readonly queue: string;
  readonly exchange: string;
  readonly routingKey: string;
}

/** A set of declarations; declaring it twice is harmless (all AMQP declarations are idempotent). */
export interface Topology {
  readonly exchanges: readonly ExchangeSpec[];
  readonly queues: readonly QueueSpec[];
  readonly bindings: readonly BindingSpec[];
}

/** The declarations one consumer needs, and the queue it consumes from. */
export interface ConsumerTopology extends Topology {
  readonly queue: string;
}

/** Events nobody listens for are kept, at most this many, in the unrouted queue. */
export const UNROUTED_EVENTS_MAX_LENGTH = 10_000;
/** A cancel queue nobody consumes from for this long is deleted by the broker. */
export const CANCEL_QUEUE_EXPIRES_MS = 3_600_000;

/**
 * Everything every service declares at connection time:
 * - the original's job topology: `solstice.jobs` (direct) → `solstice.jobs.v1` (routing key
 *   `jobrequest.v1`, `x-dead-letter-exchange` = `solstice.dlx`); `solstice.dlx` (fanout) →
 *   `solstice.jobs.v1.dlq`. The DLQ keeps the original's own `x-dead-letter-exchange` (the
 *   jobs exchange), so a broker set up by the original is accepted unchanged;
 * - job events: `solstice.events` (topic) with alternate exchange `solstice.events.unrouted`
 *   (fanout) → the bounded queue of the same name, so events for an owner with no queue are
 *   kept (briefly) instead of failing the publisher;
 * - cancellation: `solstice.cancel` (fanout); each consumer declares its own queue.
 */
export function baseTopology(cfg: MqConfig): Topology {
  return {
    exchanges: [
      { name: cfg.exchange, type: "direct" },
      { name: cfg.dlx, type: "fanout" },
      { name: cfg.eventsUnrouted, type: "fanout" },
      { name: cfg.eventsExchange, type: "topic", alternateExchange: cfg.eventsUnrouted },
      { name: cfg.cancelExchange, type: "fanout" },
    ],
    queues: [
      { name: cfg.dlq, deadLetterExchange: cfg.exchange },
      { name: cfg.queue, deadLetterExchange: cfg.dlx },
      { name: cfg.eventsUnrouted, maxLength: UNROUTED_EVENTS_MAX_LENGTH },
    ],
    bindings: [
      { queue: cfg.dlq, exchange: cfg.dlx, routingKey: "" },
      { queue: cfg.queue, exchange: cfg.exchange, routingKey: cfg.routingKey },
      { queue: cfg.eventsUnrouted, exchange: cfg.eventsUnrouted, routingKey: "" },
    ],
  };
}

/** The routing key of an owner's job events (`jobevent.v1.<kind>.<instance escaped>`). */
export function eventRoutingKey(owner: Pick<JobOwner, "kind" | "instance"> | undefined): string {
  return jobEventRoutingKey(owner);
}

/**
 * The durable queue that receives one owner's events: `solstice.events.<kind>.<instance escaped>`,
 * bound with exactly that owner's routing key. It outlives its consumer, so events wait in it
 * while a runner service restarts.
 */
export function ownerEventsTopology(
  cfg: MqConfig,
  owner: Pick<JobOwner, "kind" | "instance">,
): ConsumerTopology {
  const routingKey = eventRoutingKey(owner);
  const suffix = routingKey.slice(JOB_EVENT_ROUTING_PREFIX.length + 1);
  const queue = `${cfg.eventsExchange}.${suffix}`;
  return {
    queue,
    exchanges: [],
    queues: [{ name: queue, deadLetterExchange: cfg.dlx }],
    bindings: [{ queue, exchange: cfg.eventsExchange, routingKey }],
  };
}

/** Queue names may hold any UTF-8, but keep them readable in rabbitmqctl and distinct per id. */
export function escapeName(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9.-]/.test(ch) ? ch : `_${byte.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/**
 * One consumer's cancel queue, `solstice.cancel.<consumer id>` (e.g. the orchestrator host id),
 * bound to the cancel fanout exchange; deleted by the broker after an hour without consumer.
 */
export function cancelTopology(cfg: MqConfig, consumerId: string): ConsumerTopology {
  const queue = `${cfg.cancelExchange}.${escapeName(consumerId)}`;
  return {
    queue,
    exchanges: [],
    queues: [{ name: queue, deadLetterExchange: cfg.dlx, expiresMs: CANCEL_QUEUE_EXPIRES_MS }],
    bindings: [{ queue, exchange: cfg.cancelExchange, routingKey: "" }],
  };
}
