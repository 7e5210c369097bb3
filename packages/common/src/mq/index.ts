export { AmqpBroker, type AmqpBrokerOptions } from "./amqp/amqp-broker.ts";
export { AmqpJobQueue, type AmqpJobQueueOptions } from "./amqp-job-queue.ts";
export type {
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
} from "./broker.ts";
export { BrokerJobQueue } from "./broker-job-queue.ts";
export { DEAD_LETTER_HEADERS, REPLAYS_HEADER, readDeadLetter } from "./dead-letter-headers.ts";
export { InProcessJobQueue, type InProcessJobQueueOptions } from "./in-process-job-queue.ts";
export type { EventOwner, JobQueue, JobQueueDepths, JobRouter, QueueConsumeOptions } from "./job-queue.ts";
export {
  type LabelRouting,
  labelJobsTopology,
  labelOfQueue,
  labelQueueName,
  labelRoutingKey,
  resolveRouteLabel,
} from "./job-routes.ts";
export {
  type JsonHandlerOptions,
  type JsonMessageFields,
  jsonHandler,
  jsonMessage,
  type MessageContext,
  type MessageHandler,
  SCHEMA_HEADER,
} from "./json-codec.ts";
export { MemoryBroker, type MemoryBrokerOptions } from "./memory/memory-broker.ts";
export { eventHasSpans, isSpanless, SPANLESS_HEADER, spanHeaders } from "./message-span-policy.ts";
export { addMqOptions, mqConfigFromOptions } from "./mq-cli-options.ts";
export {
  MQ_DEFAULTS,
  MQ_SETTINGS,
  type MqConfig,
  type MqConfigInput,
  MqConfigSchema,
  type MqSetting,
  mqConfigEnv,
  mqConfigFromEnv,
  parseMqConfig,
  redactAmqpUrl,
} from "./mq-config.ts";
export {
  type DeadLettering,
  type PublishFailure,
  watchQueueDiagnostics,
} from "./mq-diagnostics.ts";
export {
  type BindingSpec,
  baseTopology,
  CANCEL_QUEUE_EXPIRES_MS,
  type ConsumerTopology,
  cancelTopology,
  type ExchangeSpec,
  type ExchangeType,
  eventRoutingKey,
  ownerEventsTopology,
  type QueueSpec,
  type Topology,
  UNROUTED_EVENTS_MAX_LENGTH,
} from "./topology.ts";
export { extractTraceContext, injectTraceHeaders } from "./trace-context.ts";
