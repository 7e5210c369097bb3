import { type Tracer, trace } from "@opentelemetry/api";
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { DestinationStream, Logger } from "pino";
import { createLogger, type LogLevel } from "./logger.ts";
import { SecretMasker } from "./secret-masker.ts";
import { startTracing } from "./tracing.ts";

/** What a service's `main` passes to `initTelemetry`. */
export interface TelemetryOptions {
  /** `service.name` of spans and `service` of log lines, e.g. `solstice-orchestrator`. */
  readonly serviceName: string;
  /** `service.version` of spans (the package's version). */
  readonly serviceVersion?: string | undefined;
  /** `host.id` of spans; default the machine id. */
  readonly hostId?: string | undefined;
  /** The service's `--otlp` flag: wins over `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly otlpEndpoint?: string | undefined;
  /** Extra span processors, e.g. `new SimpleSpanProcessor(new InMemorySpanExporter())` in tests. */
  readonly spanProcessors?: readonly SpanProcessor[];
  /** Default `LOG_LEVEL`, else info. */
  readonly logLevel?: LogLevel;
  /** Default stderr (pretty on a TTY). */
  readonly logDestination?: DestinationStream;
  /** Default `process.env`. */
  readonly env?: Record<string, string | undefined>;
}

/** A service's logger and tracer. */
export interface Telemetry {
  readonly logger: Logger;
  readonly tracer: Tracer;
  /** Register secret values here as they become known: they never reach the logs. */
  readonly masker: SecretMasker;
  /** Whether spans go to an OTLP endpoint. */
  readonly exporting: boolean;
  /** Sends the finished spans now, without stopping; never rejects. */
  flush(): Promise<void>;
  /**
   * Flushes spans (and logs) and stops the SDK; call once, at exit. Never rejects and never waits
   * more than a few seconds on an OTLP endpoint (see `startTracing`).
   */
  shutdown(): Promise<void>;
}

/**
 * Sets up logging and tracing for a service, once, first thing in `main`: the same setup for
 * every service. Spans (the queue's and any of `tracer`) are exported over OTLP/HTTP when
 * `otlpEndpoint` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set; trace context crosses RabbitMQ in
 * message headers, so one job is one trace; log lines written in a span carry its ids.
 *
 * @example
 *   const { logger, shutdown } = initTelemetry({ serviceName: "solstice-orchestrator" });
 *   process.once("SIGTERM", () => void shutdown());
 */
export function initTelemetry(options: TelemetryOptions): Telemetry {
  const env = options.env ?? process.env;
  const masker = new SecretMasker();
  const logger = createLogger({
    service: options.serviceName,
    masker,
    env,
    ...(options.logLevel === undefined ? {} : { level: options.logLevel }),
    ...(options.logDestination === undefined ? {} : { destination: options.logDestination }),
  });
  const tracing = startTracing({
    serviceName: options.serviceName,
    serviceVersion: options.serviceVersion,
    hostId: options.hostId,
    otlpEndpoint: options.otlpEndpoint,
    logger,
    env,
    ...(options.spanProcessors === undefined ? {} : { spanProcessors: options.spanProcessors }),
  });
  let shutdown: Promise<void> | undefined;
  return {
    logger,
    tracer: trace.getTracer(options.serviceName),
    masker,
    exporting: tracing.exporting,
    flush: () => tracing.flush(),
    shutdown: () => {
      shutdown ??= tracing.shutdown().finally(() => logger.flush());
      return shutdown;
    },
  };
}
