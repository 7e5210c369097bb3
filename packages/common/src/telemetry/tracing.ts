import { OTLPTraceExporter as OtlpJsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OtlpProtoTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import {
  envDetector,
  hostDetector,
  osDetector,
  type ResourceDetector,
  serviceInstanceIdDetector,
} from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { BatchSpanProcessor, type SpanExporter, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { type OtlpSettings, otlpSettings } from "./otlp-settings.ts";
import { ReportingSpanExporter } from "./reporting-exporter.ts";
import { type ServiceLogger, silentLogger } from "./service-logger.ts";

/** How to start tracing. */
export interface TracingOptions {
  /** `service.name` of every span. */
  readonly serviceName: string;
  /** `service.version` of every span. */
  readonly serviceVersion?: string | undefined;
  /** `host.id` of every span (e.g. the orchestrator's HOST_ID); default the machine id. */
  readonly hostId?: string | undefined;
  /** The `--otlp` flag: wins over `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly otlpEndpoint?: string | undefined;
  /** Extra span processors (tests pass a SimpleSpanProcessor over an InMemorySpanExporter). */
  readonly spanProcessors?: readonly SpanProcessor[];
  readonly env?: Record<string, string | undefined>;
  /** Where export failures are said (once). */
  readonly logger?: ServiceLogger;
  /** How long `shutdown()` may take to export what is buffered. Default 5 s. */
  readonly shutdownTimeoutMs?: number;
}

/** A started OpenTelemetry SDK. */
export interface Tracing {
  /** Whether spans are exported over OTLP. */
  readonly exporting: boolean;
  /** Where and how, when exporting. */
  readonly otlp: OtlpSettings | undefined;
  /** Sends the finished spans now (tests; a job's end). Never rejects. */
  flush(): Promise<void>;
  /**
   * Exports what is buffered, then stops. Never rejects, and resolves within the shutdown timeout
   * even when the OTLP endpoint hangs: a stop must not wait on telemetry.
   */
  shutdown(): Promise<void>;
}

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;

/** The OTLP/HTTP exporter for the protocol: protobuf (the default) or JSON. */
function otlpExporter(settings: OtlpSettings): SpanExporter {
  const config = { url: settings.tracesUrl };
  return settings.protocol === "http/json"
    ? new OtlpJsonTraceExporter(config)
    : new OtlpProtoTraceExporter(config);
}

/**
 * Starts the OpenTelemetry Node SDK: W3C trace-context propagation and async context always;
 * spans exported over OTLP/HTTP when an endpoint is given (`--otlp`, or the standard
 * `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`; protobuf or JSON by `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`;
 * headers by `OTEL_EXPORTER_OTLP_HEADERS`, read by the exporter), and to any `spanProcessors`.
 * The resource names the service, its version and host; never the process command line (it may
 * hold secrets). Finished spans are sent in batches every `OTEL_BSP_SCHEDULE_DELAY` ms (default
 * 5000). No metrics or log export.
 *
 * @throws SolsticeError `OTLP_ENDPOINT_INVALID` / `OTLP_PROTOCOL_UNSUPPORTED` for bad settings.
 */
export function startTracing(options: TracingOptions): Tracing {
  const env = options.env ?? process.env;
  const logger = options.logger ?? silentLogger;
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  const otlp = otlpSettings(env, options.otlpEndpoint);
  if (otlp !== undefined) {
    const exporter = new ReportingSpanExporter(otlpExporter(otlp), { logger, target: otlp.tracesUrl });
    processors.push(new BatchSpanProcessor(exporter, { scheduledDelayMillis: otlp.batchDelayMs }));
  }
  // The service's own attributes come last: detected ones (the machine's host.id) do not override them.
  const serviceDetector: ResourceDetector = {
    detect: () => ({
      attributes: {
        ...(options.serviceVersion === undefined ? {} : { "service.version": options.serviceVersion }),
        ...(options.hostId === undefined ? {} : { "host.id": options.hostId }),
      },
    }),
  };
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    spanProcessors: processors,
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
    resourceDetectors: [envDetector, hostDetector, osDetector, serviceInstanceIdDetector, serviceDetector],
  });
  sdk.start();
  const timeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  let stopped: Promise<void> | undefined;
  return {
    exporting: otlp !== undefined,
    otlp,
    flush: async () => {
      await Promise.allSettled(processors.map((processor) => processor.forceFlush()));
    },
    shutdown: () => {
      stopped ??= boundedShutdown(() => sdk.shutdown(), timeoutMs, logger);
      return stopped;
    },
  };
}

/** Runs `shutdown`, logging (not throwing) its failure, and gives up waiting after `timeoutMs`. */
export async function boundedShutdown(
  shutdown: () => Promise<void>,
  timeoutMs: number,
  logger: ServiceLogger,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
    timer.unref();
  });
  try {
    const outcome = await Promise.race([
      Promise.resolve()
        .then(shutdown)
        .then(() => "done" as const),
      timedOut,
    ]);
    if (outcome === "timeout")
      logger.warn({ timeoutMs }, "telemetry shutdown timed out; spans still buffered are dropped");
  } catch (error) {
    logger.warn({ err: error }, "telemetry shutdown failed; spans still buffered are dropped");
  } finally {
    clearTimeout(timer);
  }
}
