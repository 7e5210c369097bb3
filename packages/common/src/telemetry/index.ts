export { initTelemetry, type Telemetry, type TelemetryOptions } from "./init-telemetry.ts";
export {
  createLogger,
  LOG_LEVELS,
  type LoggerOptions,
  type LogLevel,
  logLevelFromEnv,
  REDACTED_PATHS,
} from "./logger.ts";
export { MASK, SecretMasker } from "./secret-masker.ts";
export { type ServiceLogger, silentLogger } from "./service-logger.ts";
export { startTracing, type Tracing, type TracingOptions } from "./tracing.ts";
export { hasUrlCredentials, redactUrlCredentials, stripUrlCredentials } from "./url-credentials.ts";
