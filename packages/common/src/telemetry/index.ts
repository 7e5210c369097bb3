export { initTelemetry, type Telemetry, type TelemetryOptions } from "./init-telemetry.ts";
export * from "./job-spans.ts";
export {
  createLogger,
  LOG_LEVELS,
  type LoggerOptions,
  type LogLevel,
  logLevelFromEnv,
  REDACTED_PATHS,
} from "./logger.ts";
export { otlpOption } from "./otlp-cli-option.ts";
export { OTLP_PROTOCOLS, type OtlpProtocol, type OtlpSettings, otlpSettings } from "./otlp-settings.ts";
export { ReportingSpanExporter } from "./reporting-exporter.ts";
export { MASK, SecretMasker } from "./secret-masker.ts";
export { type ServiceLogger, silentLogger } from "./service-logger.ts";
export {
  requestIdOf,
  runWithRequestId,
  type TraceLogFields,
  traceLogFields,
  withRequestId,
} from "./trace-log-fields.ts";
export { boundedShutdown, startTracing, type Tracing, type TracingOptions } from "./tracing.ts";
export { hasUrlCredentials, redactUrlCredentials, stripUrlCredentials } from "./url-credentials.ts";
