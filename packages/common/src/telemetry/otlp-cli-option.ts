import { Option } from "commander";

/**
 * The `--otlp <url>` flag every service takes: where spans go over OTLP/HTTP. It wins over
 * `OTEL_EXPORTER_OTLP_ENDPOINT`, which (with the other `OTEL_EXPORTER_OTLP_*` variables) is read by
 * `initTelemetry` itself; pass the flag's value as `otlpEndpoint`.
 *
 * @example
 *   command.addOption(otlpOption());
 *   initTelemetry({ serviceName, otlpEndpoint: opts["otlp"] as string | undefined });
 */
export function otlpOption(): Option {
  return new Option(
    "--otlp <url>",
    "OpenTelemetry OTLP/HTTP endpoint, e.g. http://localhost:4318 (default: OTEL_EXPORTER_OTLP_ENDPOINT; no export when neither is set)",
  );
}
