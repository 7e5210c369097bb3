import { SolsticeError } from "../errors.ts";

/** The OTLP/HTTP encodings a service can export spans in. */
export const OTLP_PROTOCOLS = ["http/protobuf", "http/json"] as const;
/** @see OTLP_PROTOCOLS */
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** Where and how spans are exported. */
export interface OtlpSettings {
  /** The full traces URL, e.g. `http://collector:4318/v1/traces`. */
  readonly tracesUrl: string;
  readonly protocol: OtlpProtocol;
  /** How long finished spans wait to be sent in a batch (`OTEL_BSP_SCHEDULE_DELAY`, default 5000). */
  readonly batchDelayMs: number;
}

/** Longest endpoint accepted (a URL, not a document). */
const MAX_ENDPOINT_LENGTH = 2_048;

/**
 * Where spans go, from the standard OTLP variables and a service's `--otlp` flag (which wins over
 * `OTEL_EXPORTER_OTLP_ENDPOINT`); undefined when nothing says to export. The endpoint gets
 * `/v1/traces` appended, as the OTLP spec says; `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is used as is.
 * Pure: the env is passed in.
 *
 * @throws SolsticeError `OTLP_ENDPOINT_INVALID` / `OTLP_PROTOCOL_UNSUPPORTED`.
 * @example
 *   otlpSettings({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }, "http://localhost:4318")
 *   // { tracesUrl: "http://localhost:4318/v1/traces", protocol: "http/json" }
 */
export function otlpSettings(
  env: Record<string, string | undefined>,
  flagEndpoint?: string | undefined,
): OtlpSettings | undefined {
  const flag = flagEndpoint?.trim();
  const tracesEndpoint = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]?.trim();
  const endpoint = env["OTEL_EXPORTER_OTLP_ENDPOINT"]?.trim();
  let tracesUrl: string;
  if (flag !== undefined && flag !== "") tracesUrl = appendTracesPath(checkedUrl(flag, "--otlp"));
  else if (tracesEndpoint !== undefined && tracesEndpoint !== "")
    tracesUrl = checkedUrl(tracesEndpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  else if (endpoint !== undefined && endpoint !== "")
    tracesUrl = appendTracesPath(checkedUrl(endpoint, "OTEL_EXPORTER_OTLP_ENDPOINT"));
  else return undefined;
  return { tracesUrl, protocol: otlpProtocol(env), batchDelayMs: batchDelayMs(env) };
}

function otlpProtocol(env: Record<string, string | undefined>): OtlpProtocol {
  const raw = (env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] ?? env["OTEL_EXPORTER_OTLP_PROTOCOL"])?.trim();
  if (raw === undefined || raw === "") return "http/protobuf";
  const protocol = OTLP_PROTOCOLS.find((p) => p === raw);
  if (protocol === undefined) {
    throw new SolsticeError(
      "OTLP_PROTOCOL_UNSUPPORTED",
      `OTLP protocol ${JSON.stringify(raw.slice(0, 40))} is not supported`,
      { hint: `set OTEL_EXPORTER_OTLP_PROTOCOL to ${OTLP_PROTOCOLS.join(" or ")} (gRPC is not built in)` },
    );
  }
  return protocol;
}

const DEFAULT_BATCH_DELAY_MS = 5_000;
const MAX_BATCH_DELAY_MS = 60_000;

function batchDelayMs(env: Record<string, string | undefined>): number {
  const raw = env["OTEL_BSP_SCHEDULE_DELAY"]?.trim();
  if (raw === undefined || raw === "") return DEFAULT_BATCH_DELAY_MS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > MAX_BATCH_DELAY_MS) {
    throw new SolsticeError(
      "OTLP_BATCH_DELAY_INVALID",
      `OTEL_BSP_SCHEDULE_DELAY=${JSON.stringify(raw.slice(0, 40))} is not a delay in milliseconds`,
      { hint: `use a whole number from 1 to ${MAX_BATCH_DELAY_MS}` },
    );
  }
  return value;
}

function checkedUrl(raw: string, source: string): string {
  let url: URL | undefined;
  if (raw.length <= MAX_ENDPOINT_LENGTH) {
    try {
      url = new URL(raw);
    } catch {
      url = undefined;
    }
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new SolsticeError("OTLP_ENDPOINT_INVALID", `${source} is not an http(s) URL`, {
      hint: "e.g. http://otel-collector:4318",
    });
  }
  return raw;
}

function appendTracesPath(endpoint: string): string {
  return endpoint.endsWith("/") ? `${endpoint}v1/traces` : `${endpoint}/v1/traces`;
}
