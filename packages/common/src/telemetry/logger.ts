import { type DestinationStream, type Level, type Logger, pino } from "pino";
import pretty from "pino-pretty";
import { SolsticeError } from "../errors.ts";
import { serializeError } from "./error-serializer.ts";
import { MASK, SecretMasker } from "./secret-masker.ts";
import { traceLogFields } from "./trace-log-fields.ts";

/** Log levels, most severe first; `silent` logs nothing. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
/** @see LOG_LEVELS */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Fields whose values are never logged, whatever they hold (pino `redact` paths, one level of
 * wildcard). Secret values inside other text are caught by the `SecretMasker`.
 */
export const REDACTED_PATHS: readonly string[] = [
  "password",
  "*.password",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "secrets",
  "*.secrets",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "privateKey",
  "*.privateKey",
  "private_key",
  "*.private_key",
  // JobRequest.mask holds the secret values themselves.
  "mask",
  "*.mask",
];

/** How to build a logger. */
export interface LoggerOptions {
  /** Added to every line as `service`. */
  readonly service: string;
  /** Default: `LOG_LEVEL` from `env`, else `info`. */
  readonly level?: LogLevel;
  /** Where lines go; default stderr (pretty when stderr is a TTY). */
  readonly destination?: DestinationStream;
  /** Secrets to mask; share one with the code that learns secrets. */
  readonly masker?: SecretMasker;
  readonly env?: Record<string, string | undefined>;
}

/**
 * The log level from `LOG_LEVEL` (default `info`).
 * @throws SolsticeError `LOG_LEVEL_INVALID` for an unknown level.
 */
export function logLevelFromEnv(env: Record<string, string | undefined> = process.env): LogLevel {
  const raw = env["LOG_LEVEL"]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return "info";
  const level = LOG_LEVELS.find((l) => l === raw);
  if (level === undefined) {
    throw new SolsticeError("LOG_LEVEL_INVALID", `LOG_LEVEL=${JSON.stringify(raw)} is not a log level`, {
      hint: `use one of ${LOG_LEVELS.join(", ")}`,
    });
  }
  return level;
}

// Masks each serialised line before it reaches the real destination.
function maskingStream(masker: SecretMasker, sink: DestinationStream): DestinationStream {
  return {
    write(line: string) {
      sink.write(masker.mask(line));
    },
  };
}

function defaultDestination(): DestinationStream {
  if (process.stderr.isTTY)
    return pretty({ destination: 2, sync: true, colorize: true, ignore: "pid,hostname" });
  return pino.destination({ dest: 2, sync: true });
}

/**
 * A pino logger: JSON lines on stderr (pretty on a TTY), ISO timestamps, `service` on every
 * line, known secret fields redacted and registered secret values masked everywhere; an `err`
 * says its causes' messages once. A line written inside a span carries `trace_id` and `span_id`,
 * one written inside a job's context its `request_id` (see trace-log-fields.ts).
 *
 * @example
 *   const log = createLogger({ service: "solstice-orchestrator" });
 *   log.info({ requestId }, "job accepted");
 */
export function createLogger(options: LoggerOptions): Logger {
  const masker = options.masker ?? new SecretMasker();
  const level: Level | "silent" = options.level ?? logLevelFromEnv(options.env);
  return pino(
    {
      level,
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      // "level":"info" rather than 30: readable by people and by log shippers alike.
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACTED_PATHS], censor: MASK },
      // An error and its causes say why once (see error-serializer.ts).
      serializers: { err: serializeError },
      // trace_id/span_id of the active span and the job's request_id: lines join their trace.
      mixin: () => traceLogFields(),
    },
    maskingStream(masker, options.destination ?? defaultDestination()),
  );
}
