import { type MqConfig, mqConfigFromEnv } from "@solstice/common";
import { mqTestEnv } from "@solstice/test-support";

// RabbitMQ names private to one test file come from @solstice/test-support (mqPrefix, mqTestEnv,
// deleteMqByPrefix); a child process (ciadm, the orchestrator) gets them through common's
// mqConfigEnv. Here, the settings ciadm's tests use.

/** Queue settings with every name under `prefix`, on the test broker. */
export function uniqueMq(prefix: string): MqConfig {
  return mqConfigFromEnv(mqTestEnv(prefix, { AMQP_RETRY_DELAY_MS: 100, AMQP_PUBLISH_TIMEOUT_MS: 15_000 }));
}
