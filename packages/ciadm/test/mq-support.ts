import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { MQ_SETTINGS, type MqConfig, mqConfigFromEnv } from "@solstice/common";
import { AMQP_URL } from "@solstice/test-support";
import { connect } from "amqplib";

// RabbitMQ names private to one test file (a random prefix), the environment that gives them to
// a child process (ciadm, the orchestrator), and their removal afterwards.

const run = promisify(execFile);

/** A prefix for every RabbitMQ name one test file declares. */
export function mqPrefix(label: string): string {
  return `test-ciadm-${label}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
}

/** Queue settings with every name under `prefix`, on the test broker. */
export function uniqueMq(prefix: string): MqConfig {
  return mqConfigFromEnv(
    { AMQP_URL },
    {
      exchange: `${prefix}.jobs`,
      queue: `${prefix}.jobs.v1`,
      dlx: `${prefix}.dlx`,
      dlq: `${prefix}.jobs.v1.dlq`,
      eventsExchange: `${prefix}.events`,
      eventsUnrouted: `${prefix}.events.unrouted`,
      cancelExchange: `${prefix}.cancel`,
      retryDelayMs: 100,
      publishTimeoutMs: 15_000,
    },
  );
}

/** The environment variables that give a child process these queue settings. */
export function mqEnv(mq: MqConfig): Record<string, string> {
  return Object.fromEntries(MQ_SETTINGS.map((s) => [s.env, String(mq[s.key])]));
}

/** Deletes every queue and exchange whose name starts with `prefix`. */
export async function deleteMqByPrefix(prefix: string): Promise<void> {
  const names = async (kind: string) =>
    (await run("rabbitmqctl", ["-q", kind, "name"])).stdout
      .split("\n")
      .map((l) => l.trim())
      .filter((n) => n.startsWith(prefix));
  const queues = await names("list_queues");
  const exchanges = await names("list_exchanges");
  const model = await connect(AMQP_URL);
  try {
    const channel = await model.createChannel();
    for (const q of queues) await channel.deleteQueue(q);
    for (const e of exchanges) await channel.deleteExchange(e);
    await channel.close();
  } finally {
    await model.close();
  }
}

/** Resolves once `check` holds (polled every 100 ms); rejects naming `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
