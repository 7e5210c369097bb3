import { z } from "zod";
import { MqConfigError } from "../errors.ts";

/** One queue setting: where it comes from (env, flag) and its default. */
export interface MqSetting {
  /** Key in `MqConfig`. */
  readonly key: keyof MqConfig;
  /** Environment variable, e.g. `AMQP_URL`. */
  readonly env: string;
  /** Long flag, e.g. `--amqp-url`. */
  readonly flag: string;
  /** Placeholder shown in `--help`, e.g. `<url>`. */
  readonly arg: string;
  readonly default: string | number;
  readonly description: string;
}

// The first seven are the original's (`common::mq::MqConfig`), same names and defaults.
/** Every queue setting, in the order `--help` lists them. */
export const MQ_SETTINGS: readonly MqSetting[] = [
  {
    key: "url",
    env: "AMQP_URL",
    flag: "--amqp-url",
    arg: "<url>",
    default: "amqp://127.0.0.1:5672/%2f",
    description: "RabbitMQ URL (amqp:// or amqps://)",
  },
  {
    key: "exchange",
    env: "AMQP_EXCHANGE",
    flag: "--amqp-exchange",
    arg: "<name>",
    default: "solstice.jobs",
    description: "job requests exchange (direct, durable)",
  },
  {
    key: "routingKey",
    env: "AMQP_ROUTING_KEY",
    flag: "--amqp-routing-key",
    arg: "<key>",
    default: "jobrequest.v1",
    description: "routing key of job requests",
  },
  {
    key: "queue",
    env: "AMQP_QUEUE",
    flag: "--amqp-queue",
    arg: "<name>",
    default: "solstice.jobs.v1",
    description: "job requests queue (durable)",
  },
  {
    key: "dlx",
    env: "AMQP_DLX",
    flag: "--amqp-dlx",
    arg: "<name>",
    default: "solstice.dlx",
    description: "dead-letter exchange (fanout, durable)",
  },
  {
    key: "dlq",
    env: "AMQP_DLQ",
    flag: "--amqp-dlq",
    arg: "<name>",
    default: "solstice.jobs.v1.dlq",
    description: "dead-letter queue (durable)",
  },
  {
    key: "prefetch",
    env: "AMQP_PREFETCH",
    flag: "--amqp-prefetch",
    arg: "<n>",
    default: 64,
    description: "unacknowledged messages a consumer may hold",
  },
  {
    key: "eventsExchange",
    env: "AMQP_EVENTS_EXCHANGE",
    flag: "--amqp-events-exchange",
    arg: "<name>",
    default: "solstice.events",
    description: "job events exchange (topic, durable)",
  },
  {
    key: "eventsUnrouted",
    env: "AMQP_EVENTS_UNROUTED",
    flag: "--amqp-events-unrouted",
    arg: "<name>",
    default: "solstice.events.unrouted",
    description: "alternate exchange and bounded queue for events no owner listens for",
  },
  {
    key: "cancelExchange",
    env: "AMQP_CANCEL_EXCHANGE",
    flag: "--amqp-cancel-exchange",
    arg: "<name>",
    default: "solstice.cancel",
    description: "cancel requests exchange (fanout, durable)",
  },
  {
    key: "publishTimeoutMs",
    env: "AMQP_PUBLISH_TIMEOUT_MS",
    flag: "--amqp-publish-timeout-ms",
    arg: "<ms>",
    default: 30_000,
    description: "how long a publish waits for the broker (outage, confirm) before it fails",
  },
  {
    key: "maxAttempts",
    env: "AMQP_MAX_ATTEMPTS",
    flag: "--amqp-max-attempts",
    arg: "<n>",
    default: 5,
    description: "handler attempts before a failing message is dead-lettered",
  },
  {
    key: "retryDelayMs",
    env: "AMQP_RETRY_DELAY_MS",
    flag: "--amqp-retry-delay-ms",
    arg: "<ms>",
    default: 1_000,
    description: "delay before a failed message is requeued (doubles per attempt, at most 30 s)",
  },
  {
    key: "reconnectMaxDelayMs",
    env: "AMQP_RECONNECT_MAX_DELAY_MS",
    flag: "--amqp-reconnect-max-delay-ms",
    arg: "<ms>",
    default: 15_000,
    description: "longest wait between reconnection attempts (exponential backoff with jitter)",
  },
];

// AMQP short strings: names are at most 255 bytes.
const name = z.string().min(1, "must not be empty").max(255, "at most 255 characters");
const millis = (max: number) => z.coerce.number().int("must be a whole number").min(0).max(max);

/**
 * The queue's settings, validated. Strings from the environment are coerced to numbers.
 *
 * @example
 *   const cfg = MqConfigSchema.parse({ ...MQ_DEFAULTS, prefetch: "2" });
 */
export const MqConfigSchema = z.object({
  url: z
    .string()
    .regex(/^amqps?:\/\/[^/]/, "expected amqp://host[:port][/vhost] or amqps://...")
    .describe("RabbitMQ URL"),
  exchange: name,
  routingKey: z.string().max(255),
  queue: name,
  dlx: name,
  dlq: name,
  // AMQP's prefetch-count is a 16-bit field.
  prefetch: z.coerce.number().int("must be a whole number").min(1).max(65_535),
  eventsExchange: name,
  eventsUnrouted: name,
  cancelExchange: name,
  publishTimeoutMs: millis(3_600_000),
  maxAttempts: z.coerce.number().int("must be a whole number").min(1).max(1_000),
  retryDelayMs: millis(600_000),
  reconnectMaxDelayMs: millis(600_000).min(100),
});
/** @see MqConfigSchema */
export type MqConfig = z.infer<typeof MqConfigSchema>;
/** What callers may pass as overrides: strings (as from flags) or numbers. */
export type MqConfigInput = { [K in keyof MqConfig]?: MqConfig[K] | string | undefined };

/** The defaults, as the original's `MqConfig::default()` without env. */
export const MQ_DEFAULTS: MqConfig = MqConfigSchema.parse(
  Object.fromEntries(MQ_SETTINGS.map((s) => [s.key, s.default])),
);

function settingFor(key: PropertyKey | undefined): MqSetting | undefined {
  return MQ_SETTINGS.find((s) => s.key === key);
}

/**
 * Validates merged settings; an error names the env variable of the first bad setting.
 * @throws MqConfigError
 */
export function parseMqConfig(raw: Record<string, unknown>): MqConfig {
  const result = MqConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const setting = settingFor(issue?.path[0]);
  const key = setting?.key ?? String(issue?.path[0] ?? "?");
  const value = raw[key];
  // Never quote a password back, even from a malformed URL.
  const shown = typeof value === "string" ? value.replace(/(\/\/[^:/@]*):[^@]*@/, "$1:***@") : value;
  throw new MqConfigError(setting?.env ?? key, shown, issue?.message ?? "invalid");
}

/**
 * Reads the queue settings from the environment (the original's names and defaults), with
 * `overrides` (e.g. from flags) taking precedence. Empty variables count as unset.
 *
 * @example
 *   const cfg = mqConfigFromEnv(process.env, { prefetch: 2 });
 * @throws MqConfigError naming the variable, e.g. `AMQP_PREFETCH="x": expected number`
 */
export function mqConfigFromEnv(
  env: Record<string, string | undefined> = process.env,
  overrides: MqConfigInput = {},
): MqConfig {
  const raw: Record<string, unknown> = {};
  for (const s of MQ_SETTINGS) {
    const override = overrides[s.key];
    const fromEnv = env[s.env];
    raw[s.key] = override ?? (fromEnv === undefined || fromEnv === "" ? s.default : fromEnv);
  }
  return parseMqConfig(raw);
}

/** `amqp://user:secret@host/` → `amqp://user:***@host/`: for logs and error messages. */
export function redactAmqpUrl(url: string): string {
  return url.replace(/^(amqps?:\/\/[^:/@]*):[^@]*@/, "$1:***@");
}

/**
 * The environment variables that give a child process exactly these settings (the inverse of
 * `mqConfigFromEnv`).
 *
 * @example
 *   spawn("solstice-orchestrator", ["run"], { env: { ...process.env, ...mqConfigEnv(config) } });
 */
export function mqConfigEnv(config: MqConfig): Record<string, string> {
  return Object.fromEntries(MQ_SETTINGS.map((s) => [s.env, String(config[s.key])]));
}
