import type { ServiceLogger } from "../telemetry/service-logger.ts";
import { AmqpBroker } from "./amqp/amqp-broker.ts";
import { BrokerJobQueue } from "./broker-job-queue.ts";
import type { LabelRouting } from "./job-routes.ts";
import { type MqConfig, mqConfigFromEnv } from "./mq-config.ts";

/** How to connect an AmqpJobQueue. */
export interface AmqpJobQueueOptions {
  /** Default: `mqConfigFromEnv()`. */
  readonly config?: MqConfig;
  readonly logger?: ServiceLogger;
  /** Names the connection in `rabbitmqctl list_connections`, e.g. `solstice-orchestrator@host`. */
  readonly connectionName?: string;
  /** How long `connect` waits for the broker; default the publish timeout. */
  readonly connectTimeoutMs?: number;
  /** Aliases (and default label) `publishJob` resolves before routing; see `resolveRouteLabel`. */
  readonly labelRouting?: LabelRouting | undefined;
}

/** `JobQueue` on RabbitMQ: the fleet's queue. */
export class AmqpJobQueue extends BrokerJobQueue<AmqpBroker> {
  /**
   * Connects (waiting up to `connectTimeoutMs`), declares the topology, and returns the queue;
   * later connection losses are healed in the background.
   * @throws BrokerUnavailableError when the broker cannot be reached in time.
   */
  static async connect(options: AmqpJobQueueOptions = {}): Promise<AmqpJobQueue> {
    const config = options.config ?? mqConfigFromEnv();
    const broker = AmqpBroker.start({
      config,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.connectionName === undefined ? {} : { connectionName: options.connectionName }),
    });
    try {
      await broker.waitUntilConnected(options.connectTimeoutMs ?? config.publishTimeoutMs);
    } catch (error) {
      await broker.close({ timeoutMs: 0 });
      throw error;
    }
    return new AmqpJobQueue(broker, config, { labelRouting: options.labelRouting });
  }
}
