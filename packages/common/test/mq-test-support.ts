import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { AMQP_URL } from "@solstice/test-support";
import { connect } from "amqplib";
import type { MqConfig, MqConfigInput } from "../src/mq/mq-config.ts";
import { mqConfigFromEnv } from "../src/mq/mq-config.ts";
import type { MqLogger } from "../src/mq/mq-logger.ts";

const run = promisify(execFile);

/** A prefix unique to this test file run: every name a test declares starts with it. */
export function runPrefix(label: string): string {
  return `test-${label}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
}

let counter = 0;

/** Queue settings whose every name is unique (prefix + counter), pointing at the test broker. */
export function uniqueMqConfig(prefix: string, overrides: MqConfigInput = {}): MqConfig {
  const p = `${prefix}.${++counter}`;
  return mqConfigFromEnv(
    { AMQP_URL },
    {
      exchange: `${p}.jobs`,
      queue: `${p}.jobs.v1`,
      dlx: `${p}.dlx`,
      dlq: `${p}.jobs.v1.dlq`,
      eventsExchange: `${p}.events`,
      eventsUnrouted: `${p}.events.unrouted`,
      cancelExchange: `${p}.cancel`,
      retryDelayMs: 20,
      publishTimeoutMs: 10_000,
      ...overrides,
    },
  );
}

async function listNames(kind: "list_queues" | "list_exchanges", prefix: string): Promise<string[]> {
  const { stdout } = await run("rabbitmqctl", ["-q", kind, "name"]);
  return stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((name) => name.startsWith(prefix));
}

/** Deletes every queue and exchange whose name starts with `prefix`. */
export async function deleteByPrefix(prefix: string): Promise<void> {
  const queues = await listNames("list_queues", prefix);
  const exchanges = await listNames("list_exchanges", prefix);
  const model = await connect(AMQP_URL);
  try {
    const channel = await model.createChannel();
    for (const queue of queues) await channel.deleteQueue(queue);
    for (const exchange of exchanges) await channel.deleteExchange(exchange);
    await channel.close();
  } finally {
    await model.close();
  }
}

/** Runs `rabbitmqctl <args>` (as root, on the shared test broker). */
export async function rabbitmqctl(...args: string[]): Promise<void> {
  await run("rabbitmqctl", ["-q", ...args], { timeout: 120_000 });
}

/** Resolves once `check` holds (polled every 20 ms); rejects with `what` after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A logger that keeps what it is told, for assertions on log messages. */
export function recordingLogger(): MqLogger & {
  readonly messages: { level: string; message: string; fields: object }[];
} {
  const messages: { level: string; message: string; fields: object }[] = [];
  const at = (level: string) => (fields: object, message?: string) => {
    messages.push({ level, message: message ?? "", fields });
  };
  return { messages, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** A promise with its resolve function exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
