import type { UnservedLabelError } from "../errors.ts";
import type { CancelRequest, JobEvent, JobOwner, JobRequest } from "../messages/index.ts";
import type { DeadLetterQueue, QueueStats, Subscription } from "./broker.ts";
import type { MessageHandler } from "./json-codec.ts";

/** Consumer settings a service may set per subscription. */
export interface QueueConsumeOptions {
  /** Handlers running at once (unacked messages); default `AMQP_PREFETCH`. */
  readonly prefetch?: number;
  /** Handler attempts before dead-lettering; default `AMQP_MAX_ATTEMPTS`. */
  readonly maxAttempts?: number;
  /** First requeue delay after a failure; default `AMQP_RETRY_DELAY_MS`. */
  readonly retryDelayMs?: number;
  /**
   * A message body larger than this many bytes is dead-lettered without being decoded
   * (`MessageTooLargeError`); default: no limit but the broker's.
   */
  readonly maxMessageBytes?: number;
}

/**
 * How the router (every orchestrator) moves requests that arrive by the original's route to
 * their label route.
 */
export interface JobRouter {
  /** The label the request goes to (`resolveRouteLabel` with the host's aliases and default). */
  label(request: JobRequest): string | undefined;
  /**
   * Called when no queue is bound for the label, before the request is dead-lettered with
   * `error`'s reason: tell the request's owner. A throw retries the request later.
   */
  unserved(request: JobRequest, error: UnservedLabelError): Promise<void>;
}

/** What `inspectJobQueues` reports. */
export interface JobQueueDepths {
  /** One per label asked for whose queue exists, in the order asked. */
  readonly labels: readonly (QueueStats & { readonly label: string })[];
  /** `solstice.jobs.v1`: requests published the original's way, waiting for a router. */
  readonly original: QueueStats | undefined;
  readonly deadLetters: QueueStats | undefined;
}

/** The owner fields that select an event queue. */
export type EventOwner = Pick<JobOwner, "kind" | "instance">;

/**
 * The queue as the services use it: job requests to orchestrators, job events back to their
 * owner, cancel requests to every orchestrator. Two implementations with the same semantics:
 * `AmqpJobQueue` (RabbitMQ, the fleet) and `InProcessJobQueue` (one process, embedded mode).
 *
 * Delivery is at least once: a handler may see a message again (after a reconnection, a
 * retry, a replay) and must be idempotent (jobs are keyed by `request_id`, events by `seq`).
 *
 * @example
 *   const queue = await AmqpJobQueue.connect({ config: mqConfigFromEnv() });
 *   await queue.consumeJobs(async (req, ctx) => runJob(req), { prefetch: capacity });
 *   await queue.publishJob(newJobRequest({ source: "manual", repo_url, commit_sha }));
 */
export interface JobQueue {
  /**
   * Publishes a job request (message id = `request_id`), confirmed by the broker.
   * @throws UnroutableError, PublishNackedError, BrokerUnavailableError, QueueClosedError
   */
  publishJob(request: JobRequest): Promise<void>;
  /**
   * Consumes job requests from the original's queue (`solstice.jobs.v1`: requests published the
   * original's way, and those whose label route no queue is bound to); invalid ones are
   * dead-lettered with the reason.
   */
  consumeJobs(handler: MessageHandler<JobRequest>, options?: QueueConsumeOptions): Promise<Subscription>;
  /**
   * Consumes the requests of one label from its durable queue, declared here and bound by the
   * label's routing key and each alias's. Hosts serving the label share the queue.
   * @throws LabelRouteTooLongError when a name would exceed AMQP's 255 bytes.
   */
  consumeLabelJobs(
    label: string,
    aliases: readonly string[],
    handler: MessageHandler<JobRequest>,
    options?: QueueConsumeOptions,
  ): Promise<Subscription>;
  /**
   * Consumes the original's queue as a router: each request is republished (body and headers
   * kept, confirmed) to its label route and acknowledged only after the broker confirmed it; a
   * request whose label route has no queue is dead-lettered (`UnservedLabelError`, reason
   * `no orchestrator serves label X`) after `router.unserved` was told.
   */
  routeJobs(router: JobRouter, options?: QueueConsumeOptions): Promise<Subscription>;
  /**
   * Depth and consumers of the job queues (passive declarations): each label's queue (absent
   * when no host ever declared it), the original's queue (requests waiting for a router) and
   * the DLQ.
   */
  inspectJobQueues(labels: readonly string[]): Promise<JobQueueDepths>;
  /**
   * Publishes a job event to its owner's queue (routing key from `owner`); events of owners
   * nobody listens for go to the bounded unrouted queue rather than failing.
   */
  publishEvent(event: JobEvent, owner: JobOwner | undefined): Promise<void>;
  /** Consumes one owner's events from its durable queue (declared here). */
  consumeEvents(
    owner: EventOwner,
    handler: MessageHandler<JobEvent>,
    options?: QueueConsumeOptions,
  ): Promise<Subscription>;
  /**
   * Deletes one owner's event queue if it is empty (an owner that is gone for good, such as a
   * JIT runner after its job); true when it is gone, false when events still wait in it.
   */
  deleteEvents(owner: EventOwner): Promise<boolean>;
  /**
   * Sends a cancel request to every cancel consumer (each orchestrator).
   * @throws UnroutableError when no consumer has ever declared its cancel queue.
   */
  publishCancel(cancel: CancelRequest): Promise<void>;
  /** Consumes cancel requests on this consumer's own queue (e.g. per orchestrator host id). */
  consumeCancels(
    consumerId: string,
    handler: MessageHandler<CancelRequest>,
    options?: QueueConsumeOptions,
  ): Promise<Subscription>;
  /** The dead-letter queue, for `ciadm dlq list|replay|purge`. */
  readonly deadLetters: DeadLetterQueue;
  /** Stops consumers, lets handlers and publishes finish (up to `timeoutMs`), disconnects. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}
