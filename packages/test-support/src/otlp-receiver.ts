import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";

// An OTLP/HTTP trace receiver for tests, as a collector would be: POST /v1/traces with the JSON
// encoding (services export with OTEL_EXPORTER_OTLP_PROTOCOL=http/json), decoded with zod and
// kept in memory; protobuf requests are only counted. (ciadm's trigger test uses it too.) Plus what the tests read from it: a trace's spans and its tree drawn as text.

const AnyValue = z
  .object({
    stringValue: z.string().optional(),
    intValue: z.union([z.string(), z.number()]).optional(),
    boolValue: z.boolean().optional(),
    doubleValue: z.number().optional(),
  })
  .loose();

const KeyValue = z.object({ key: z.string(), value: AnyValue });

const OtlpSpan = z.object({
  traceId: z.string(),
  spanId: z.string(),
  parentSpanId: z.string().optional(),
  name: z.string(),
  kind: z.number().optional(),
  startTimeUnixNano: z.union([z.string(), z.number()]),
  endTimeUnixNano: z.union([z.string(), z.number()]),
  attributes: z.array(KeyValue).optional(),
  events: z.array(z.object({ name: z.string(), attributes: z.array(KeyValue).optional() })).optional(),
  status: z.object({ code: z.number().optional(), message: z.string().optional() }).loose().optional(),
});

const ExportTraceServiceRequest = z.object({
  resourceSpans: z.array(
    z.object({
      resource: z.object({ attributes: z.array(KeyValue).optional() }).optional(),
      scopeSpans: z.array(z.object({ spans: z.array(OtlpSpan).optional() })).optional(),
    }),
  ),
});

type Attributes = Record<string, string | number | boolean>;

/** A received span, flattened. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly service: string;
  readonly resource: Attributes;
  readonly attributes: Attributes;
  readonly events: readonly { name: string; attributes: Attributes }[];
  readonly startMs: number;
  readonly endMs: number;
  /** 2: error. */
  readonly statusCode: number;
}

/** Largest request body accepted. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

function attributes(list: readonly z.infer<typeof KeyValue>[] | undefined): Attributes {
  const out: Attributes = {};
  for (const { key, value } of list ?? []) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
  }
  return out;
}

/** The spans of one export request. */
export function decodeExport(body: unknown): ReceivedSpan[] {
  const request = ExportTraceServiceRequest.parse(body);
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans) {
    const resource = attributes(resourceSpans.resource?.attributes);
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        spans.push({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? "",
          name: span.name,
          service: String(resource["service.name"] ?? "?"),
          resource,
          attributes: attributes(span.attributes),
          events: (span.events ?? []).map((e) => ({ name: e.name, attributes: attributes(e.attributes) })),
          startMs: Number(BigInt(span.startTimeUnixNano) / 1_000_000n),
          endMs: Number(BigInt(span.endTimeUnixNano) / 1_000_000n),
          statusCode: span.status?.code ?? 0,
        });
      }
    }
  }
  return spans;
}

/** The receiver. */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Requests that were not valid OTLP JSON (should stay 0). */
  rejected = 0;
  /** Requests in the protobuf encoding: counted, not decoded (proves which encoding was chosen). */
  protobufRequests = 0;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Listens on a free loopback port. */
  static async start(): Promise<OtlpReceiver> {
    let receiver: OtlpReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      });
      req.on("end", () => {
        if (req.method !== "POST" || req.url !== "/v1/traces" || size > MAX_BODY_BYTES) {
          res.writeHead(404).end();
          return;
        }
        if (req.headers["content-type"] === "application/x-protobuf") {
          if (receiver !== undefined) receiver.protobufRequests += 1;
          res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
          return;
        }
        try {
          receiver?.spans.push(...decodeExport(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
          res.writeHead(200, { "content-type": "application/json" }).end("{}");
        } catch {
          if (receiver !== undefined) receiver.rejected += 1;
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    receiver = new OtlpReceiver(server);
    return receiver;
  }

  /** The base URL to give as `--otlp` / OTEL_EXPORTER_OTLP_ENDPOINT. */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /**
   * The environment that points an OTLP exporter here: this receiver decodes the JSON protocol
   * only. `batchDelayMs`: how long the exporter's batch waits before it sends.
   */
  exporterEnv(batchDelayMs: number): Record<string, string> {
    return {
      OTEL_EXPORTER_OTLP_ENDPOINT: this.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: String(batchDelayMs),
    };
  }

  /** The spans of one trace. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** The children of `parent` in `spans`, by start time. */
export function childrenOf(spans: readonly ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] {
  return spans.filter((s) => s.parentSpanId === parent.spanId).sort((a, b) => a.startMs - b.startMs);
}

/**
 * The tree of a trace as text, one span a line: name, service, duration, a few attributes.
 * Runs of more than `collapse` same-named siblings are shown as one line with a count.
 */
export function drawTree(spans: readonly ReceivedSpan[], options: { collapse?: number } = {}): string {
  const collapse = options.collapse ?? 3;
  const ids = new Set(spans.map((s) => s.spanId));
  const roots = spans.filter((s) => s.parentSpanId === "" || !ids.has(s.parentSpanId));
  const lines: string[] = [];
  const show = (span: ReceivedSpan, depth: number): void => {
    const shown = Object.entries(span.attributes)
      .filter(([key]) => key.startsWith("solstice.step.") || key === "solstice.vm.accel")
      .map(([key, value]) => `${key.replace("solstice.", "")}=${String(value)}`);
    const events = span.events.length === 0 ? "" : ` (${span.events.length} events)`;
    lines.push(
      `${"  ".repeat(depth)}${span.name} [${span.service}] ${span.endMs - span.startMs} ms${shown.length === 0 ? "" : ` ${shown.join(" ")}`}${events}`,
    );
    const children = childrenOf(spans, span);
    for (let i = 0; i < children.length; ) {
      const child = children[i] as ReceivedSpan;
      let run = 1;
      while (children[i + run]?.name === child.name && children[i + run]?.events.length === 0) run++;
      if (run > collapse && child.name !== "step") {
        lines.push(`${"  ".repeat(depth + 1)}${child.name} [${child.service}] ×${run}`);
      } else {
        for (let j = 0; j < run; j++) show(children[i + j] as ReceivedSpan, depth + 1);
      }
      i += run;
    }
  };
  for (const root of roots.sort((a, b) => a.startMs - b.startMs)) show(root, 0);
  return lines.join("\n");
}
