import { channel } from "node:diagnostics_channel";
import type { OutgoingMessage } from "./broker.ts";
import { describeFailure } from "./failure-policy.ts";

// What the queue layer tells metrics, through Node's diagnostics channels: publishing costs a
// `hasSubscribers` check when nobody listens, and the queue code needs no metrics object handed
// down through every broker and consumer. The channels are per process.

/** A publish that did not reach the broker (not confirmed, timed out, closed). */
export interface PublishFailure {
  /** The exchange (a configured name: bounded, unlike routing keys and queue names). */
  readonly exchange: string;
  /** The error's stable code (`HANDLER_FAILED` for errors that are not Solstice's). */
  readonly code: string;
}

/** A message this process sent to the dead-letter queue. */
export interface DeadLettering {
  /** The queue it was consumed from. */
  readonly queue: string;
  /** Why, as a stable code (`MESSAGE_INVALID`, `JOB_REQUEST_REFUSED`, ...). */
  readonly code: string;
}

const publishFailed = channel("solstice.mq.publish-failed");
const deadLettered = channel("solstice.mq.dead-lettered");

/** Reports a failed publish of `message` (called by the brokers). */
export function notifyPublishFailure(message: Pick<OutgoingMessage, "exchange">, error: unknown): void {
  if (!publishFailed.hasSubscribers) return;
  publishFailed.publish({
    exchange: message.exchange,
    code: describeFailure(error).code,
  } satisfies PublishFailure);
}

/** Reports a dead-lettering (called by the delivery processor). */
export function notifyDeadLettering(event: DeadLettering): void {
  if (deadLettered.hasSubscribers) deadLettered.publish(event);
}

/**
 * Calls the handlers on every failed publish and dead-lettering in this process, until the
 * returned function is called.
 *
 * @example
 *   const stop = watchQueueDiagnostics({ publishFailed: (f) => count(f.exchange), deadLettered: (d) => count(d.code) });
 */
export function watchQueueDiagnostics(handlers: {
  readonly publishFailed?: (failure: PublishFailure) => void;
  readonly deadLettered?: (event: DeadLettering) => void;
}): () => void {
  // The payloads are ours (published above), so the casts hold.
  const onPublish = (message: unknown): void => handlers.publishFailed?.(message as PublishFailure);
  const onDead = (message: unknown): void => handlers.deadLettered?.(message as DeadLettering);
  publishFailed.subscribe(onPublish);
  deadLettered.subscribe(onDead);
  return () => {
    publishFailed.unsubscribe(onPublish);
    deadLettered.unsubscribe(onDead);
  };
}
