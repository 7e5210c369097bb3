import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { envDetector, hostDetector, osDetector, serviceInstanceIdDetector } from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";

/** How to start tracing. */
export interface TracingOptions {
  /** `service.name` of every span. */
  readonly serviceName: string;
  /** Extra span processors (tests pass a SimpleSpanProcessor over an InMemorySpanExporter). */
  readonly spanProcessors?: readonly SpanProcessor[];
  readonly env?: Record<string, string | undefined>;
}

/** A started OpenTelemetry SDK. */
export interface Tracing {
  /** Whether spans are exported over OTLP. */
  readonly exporting: boolean;
  /** Exports what is buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node SDK: W3C trace-context propagation and async context always;
 * a tracer provider when there is somewhere to send spans — OTLP over HTTP when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the exporter reads the `OTEL_EXPORTER_OTLP_*` variables),
 * and any `spanProcessors` given. No metrics or log export; no process command line in the
 * resource (it may hold secrets).
 */
export function startTracing(options: TracingOptions): Tracing {
  const env = options.env ?? process.env;
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  const endpoint = env["OTEL_EXPORTER_OTLP_ENDPOINT"]?.trim();
  const exporting = endpoint !== undefined && endpoint !== "";
  if (exporting) processors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    spanProcessors: processors,
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
    resourceDetectors: [envDetector, hostDetector, osDetector, serviceInstanceIdDetector],
  });
  sdk.start();
  return { exporting, shutdown: () => sdk.shutdown() };
}
