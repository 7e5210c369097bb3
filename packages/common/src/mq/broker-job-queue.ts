import { randomUUID } from "node:crypto";
import {
  LabelRouteTooLongError,
  MessageTooLargeError,
  UnroutableError,
  UnservedLabelError,
} from "../errors.ts";
import {
  type CancelRequest,
  CancelRequestSchema,
  type JobEvent,
  JobEventSchema,
  type JobOwner,
  type JobRequest,
  JobRequestSchema,
  parseMessageText,
} from "../messages/index.ts";
import type { DeadLetterQueue, DeliveryHandler, MessageBroker, QueueStats, Subscription } from "./broker.ts";
import type { EventOwner, JobQueue, JobQueueDepths, JobRouter, QueueConsumeOptions } from "./job-queue.ts";
import {
  type LabelRouting,
  labelJobsTopology,
  labelQueueName,
  labelRoutingKey,
  resolveRouteLabel,
} from "./job-routes.ts";
import { jsonHandler, jsonMessage, type MessageHandler } from "./json-codec.ts";
import { eventHasSpans, spanHeaders } from "./message-span-policy.ts";
import type { MqConfig } from "./mq-config.ts";
import { baseTopology, cancelTopology, eventRoutingKey, ownerEventsTopology } from "./topology.ts";

// The publisher's trace headers are set again by the router's publish span (same trace).
const TRACE_HEADERS = new Set(["traceparent", "tracestate"]);

/** A `mandatory` publish returned because no queue is bound for its routing key. */
function isNoRoute(error: unknown): boolean {
  return error instanceof UnroutableError && error.replyCode === 312;
}

/**
 * `JobQueue` over any `MessageBroker`: the message names, schemas, topology and routing live
 * here once, so RabbitMQ and in-memory queues differ only in their transport.
 */
export class BrokerJobQueue<B extends MessageBroker = MessageBroker> implements JobQueue {
  readonly config: MqConfig;
  /** The transport, for generic (bytes/JSON) publishing and consuming. */
  readonly broker: B;
  readonly deadLetters: DeadLetterQueue;
  /**
   * The aliases (and default label) `publishJob` resolves before routing, e.g. an orchestrator's
   * image map. Without them a request goes to the label it names; hosts bind their aliases'
   * routing keys too, so an alias still reaches its label's queue.
   */
  readonly #labelRouting: LabelRouting | undefined;

  constructor(broker: B, config: MqConfig, options: { labelRouting?: LabelRouting | undefined } = {}) {
    this.broker = broker;
    this.config = config;
    this.deadLetters = broker.deadLetters(config.dlq);
    this.#labelRouting = options.labelRouting;
  }

  /**
   * Publishes to the request's label route (`jobrequest.v1.<label>`). When no queue is bound for
   * it (no host ever served the label) or the request names no label, it goes to the original's
   * route instead, where a router dead-letters it with the reason and tells its owner — or, in a
   * deployment without label routing yet, an orchestrator of the original's kind takes it.
   */
  async publishJob(request: JobRequest): Promise<void> {
    const label = resolveRouteLabel(request.runs_on, this.#labelRouting);
    const routingKey = label === undefined ? undefined : labelRoutingKey(this.config, label);
    const message = (key: string) =>
      jsonMessage(request, {
        exchange: this.config.exchange,
        routingKey: key,
        messageId: request.request_id,
        schema: request.schema_version,
      });
    if (routingKey !== undefined) {
      try {
        await this.broker.publish(message(routingKey));
        return;
      } catch (error) {
        if (!isNoRoute(error)) throw error;
      }
    }
    await this.broker.publish(message(this.config.routingKey));
  }

  consumeLabelJobs(
    label: string,
    aliases: readonly string[],
    handler: MessageHandler<JobRequest>,
    options: QueueConsumeOptions = {},
  ): Promise<Subscription> {
    const topology = labelJobsTopology(this.config, label, aliases);
    if (topology === undefined) {
      const long = [label, ...aliases].find(
        (name) =>
          labelRoutingKey(this.config, name) === undefined || labelQueueName(this.config, name) === undefined,
      );
      return Promise.reject(new LabelRouteTooLongError(long ?? label));
    }
    const decode = jsonHandler(JobRequestSchema, handler, { maxBytes: options.maxMessageBytes });
    return this.broker.consume(topology.queue, decode, { ...this.#consume(options), topology });
  }

  routeJobs(router: JobRouter, options: QueueConsumeOptions = {}): Promise<Subscription> {
    const route: DeliveryHandler = async (delivery) => {
      const maxBytes = options.maxMessageBytes;
      if (maxBytes !== undefined && delivery.body.length > maxBytes) {
        throw new MessageTooLargeError("JobRequest", delivery.body.length, maxBytes);
      }
      const request = parseMessageText(JobRequestSchema, delivery.body);
      const label = router.label(request);
      const routingKey = label === undefined ? undefined : labelRoutingKey(this.config, label);
      if (routingKey !== undefined) {
        try {
          // The original bytes and headers, confirmed before the delivery is acknowledged.
          await this.broker.publish({
            exchange: this.config.exchange,
            routingKey,
            body: delivery.body,
            messageId: delivery.messageId ?? request.request_id,
            ...(delivery.contentType === undefined ? {} : { contentType: delivery.contentType }),
            ...(delivery.type === undefined ? {} : { type: delivery.type }),
            headers: Object.fromEntries(
              Object.entries(delivery.headers).filter(([name]) => !TRACE_HEADERS.has(name)),
            ),
          });
          return;
        } catch (error) {
          if (!isNoRoute(error)) throw error;
        }
      }
      const unserved = new UnservedLabelError(label ?? request.runs_on ?? "(none)");
      await router.unserved(request, unserved);
      throw unserved;
    };
    return this.broker.consume(this.config.queue, route, {
      ...this.#consume(options),
      topology: baseTopology(this.config),
    });
  }

  async inspectJobQueues(labels: readonly string[]): Promise<JobQueueDepths> {
    const found: (QueueStats & { label: string })[] = [];
    for (const label of labels) {
      const name = labelQueueName(this.config, label);
      const stats = name === undefined ? undefined : await this.broker.inspectQueue(name);
      if (stats !== undefined) found.push({ ...stats, label });
    }
    return {
      labels: found,
      original: await this.broker.inspectQueue(this.config.queue),
      deadLetters: await this.broker.inspectQueue(this.config.dlq),
    };
  }

  consumeJobs(handler: MessageHandler<JobRequest>, options: QueueConsumeOptions = {}): Promise<Subscription> {
    const decode = jsonHandler(JobRequestSchema, handler, { maxBytes: options.maxMessageBytes });
    return this.broker.consume(this.config.queue, decode, {
      ...this.#consume(options),
      // Declared again by the consumer itself, should the queue be deleted under it.
      topology: baseTopology(this.config),
    });
  }

  publishEvent(event: JobEvent, owner: JobOwner | undefined): Promise<void> {
    return this.broker.publish(
      jsonMessage(event, {
        exchange: this.config.eventsExchange,
        routingKey: eventRoutingKey(owner),
        messageId: `${event.request_id}:${event.seq}`,
        schema: event.schema_version,
        headers: spanHeaders(eventHasSpans(event)),
      }),
    );
  }

  consumeEvents(
    owner: EventOwner,
    handler: MessageHandler<JobEvent>,
    options: QueueConsumeOptions = {},
  ): Promise<Subscription> {
    const topology = ownerEventsTopology(this.config, owner);
    return this.broker.consume(topology.queue, jsonHandler(JobEventSchema, handler), {
      ...this.#consume(options),
      topology,
    });
  }

  deleteEvents(owner: EventOwner): Promise<boolean> {
    return this.broker.deleteQueueIfEmpty(ownerEventsTopology(this.config, owner).queue);
  }

  publishCancel(cancel: CancelRequest): Promise<void> {
    return this.broker.publish(
      jsonMessage(cancel, {
        exchange: this.config.cancelExchange,
        routingKey: "",
        messageId: randomUUID(),
        schema: cancel.schema_version,
      }),
    );
  }

  consumeCancels(
    consumerId: string,
    handler: MessageHandler<CancelRequest>,
    options: QueueConsumeOptions = {},
  ): Promise<Subscription> {
    const topology = cancelTopology(this.config, consumerId);
    return this.broker.consume(topology.queue, jsonHandler(CancelRequestSchema, handler), {
      ...this.#consume(options),
      topology,
    });
  }

  close(options?: { timeoutMs?: number }): Promise<void> {
    return this.broker.close(options);
  }

  #consume(options: QueueConsumeOptions) {
    return {
      prefetch: options.prefetch ?? this.config.prefetch,
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
    };
  }
}
