import type { ServiceLogger } from "../telemetry/service-logger.ts";
import { BrokerJobQueue } from "./broker-job-queue.ts";
import type { LabelRouting } from "./job-routes.ts";
import { MemoryBroker } from "./memory/memory-broker.ts";
import { MQ_DEFAULTS, type MqConfig, type MqConfigInput, parseMqConfig } from "./mq-config.ts";
import { baseTopology } from "./topology.ts";

function definedOnly(input: MqConfigInput): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
}

/** Settings of an in-process queue: the same names as RabbitMQ's (mostly irrelevant in memory). */
export interface InProcessJobQueueOptions {
  /** Overrides of the defaults (validated like the environment). */
  readonly config?: MqConfigInput;
  readonly logger?: ServiceLogger;
  /** Aliases (and default label) `publishJob` resolves before routing; see `resolveRouteLabel`. */
  readonly labelRouting?: LabelRouting | undefined;
}

/**
 * `JobQueue` in memory, for the embedded single-node mode (`cidev run`): the same topology,
 * routing, prefetch, ack-after-handler, retries and dead-lettering with reasons as RabbitMQ,
 * for the life of the process.
 */
export class InProcessJobQueue extends BrokerJobQueue<MemoryBroker> {
  constructor(options: InProcessJobQueueOptions = {}) {
    const config: MqConfig = parseMqConfig({ ...MQ_DEFAULTS, ...definedOnly(options.config ?? {}) });
    const broker = new MemoryBroker({
      maxAttempts: config.maxAttempts,
      retryDelayMs: config.retryDelayMs,
      deadLetterExchange: config.dlx,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    broker.declareNow(baseTopology(config));
    super(broker, config, { labelRouting: options.labelRouting });
  }
}
