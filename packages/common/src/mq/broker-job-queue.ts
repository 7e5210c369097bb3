import { randomUUID } from "node:crypto";
import {
  type CancelRequest,
  CancelRequestSchema,
  type JobEvent,
  JobEventSchema,
  type JobOwner,
  type JobRequest,
  JobRequestSchema,
} from "../messages/index.ts";
import type { DeadLetterQueue, MessageBroker, Subscription } from "./broker.ts";
import type { EventOwner, JobQueue, QueueConsumeOptions } from "./job-queue.ts";
import { jsonHandler, jsonMessage, type MessageHandler } from "./json-codec.ts";
import type { MqConfig } from "./mq-config.ts";
import { baseTopology, cancelTopology, eventRoutingKey, ownerEventsTopology } from "./topology.ts";

/**
 * `JobQueue` over any `MessageBroker`: the message names, schemas, topology and routing live
 * here once, so RabbitMQ and in-memory queues differ only in their transport.
 */
export class BrokerJobQueue<B extends MessageBroker = MessageBroker> implements JobQueue {
  readonly config: MqConfig;
  /** The transport, for generic (bytes/JSON) publishing and consuming. */
  readonly broker: B;
  readonly deadLetters: DeadLetterQueue;

  constructor(broker: B, config: MqConfig) {
    this.broker = broker;
    this.config = config;
    this.deadLetters = broker.deadLetters(config.dlq);
  }

  publishJob(request: JobRequest): Promise<void> {
    return this.broker.publish(
      jsonMessage(request, {
        exchange: this.config.exchange,
        routingKey: this.config.routingKey,
        messageId: request.request_id,
        schema: request.schema_version,
      }),
    );
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
