import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mqTestEnv } from "@solstice/test-support";
import { type MqConfig, type MqConfigInput, mqConfigFromEnv } from "../src/mq/mq-config.ts";
import type { ServiceLogger } from "../src/telemetry/service-logger.ts";

// common's own test support: unique names come from @solstice/test-support (mqPrefix, mqTestEnv,
// deleteMqByPrefix); here, what only common's tests need.

const run = promisify(execFile);

let counter = 0;

/**
 * Queue settings whose every name is unique (`prefix` + a counter, so that one test file gets
 * fresh names per test), on the test broker; `overrides` as `mqConfigFromEnv` takes them.
 */
export function uniqueMqConfig(prefix: string, overrides: MqConfigInput = {}): MqConfig {
  return mqConfigFromEnv(
    mqTestEnv(`${prefix}.${++counter}`, { AMQP_RETRY_DELAY_MS: 20, AMQP_PUBLISH_TIMEOUT_MS: 10_000 }),
    overrides,
  );
}

/** Runs `rabbitmqctl <args>` (as root, on the shared test broker). */
export async function rabbitmqctl(...args: string[]): Promise<void> {
  await run("rabbitmqctl", ["-q", ...args], { timeout: 120_000 });
}

/** A logger that keeps what it is told, for assertions on log messages. */
export function recordingLogger(): ServiceLogger & {
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
