import { ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { ServiceLogger } from "./service-logger.ts";

type ExportResult = Parameters<Parameters<SpanExporter["export"]>[1]>[0];

/**
 * A span exporter that says when exporting fails: one warning when it starts failing and one
 * info line when it works again, never a line per batch (a collector down for an hour is two
 * lines, not thousands). Spans themselves are dropped as the SDK drops them.
 */
export class ReportingSpanExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #logger: ServiceLogger;
  readonly #target: string;
  #failing = false;

  constructor(inner: SpanExporter, options: { logger: ServiceLogger; target: string }) {
    this.#inner = inner;
    this.#logger = options.logger;
    this.#target = options.target;
  }

  /** Whether the last export failed. */
  get failing(): boolean {
    return this.#failing;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.#inner.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) {
        if (this.#failing) this.#logger.info({ otlp: this.#target }, "exporting spans works again");
        this.#failing = false;
      } else if (!this.#failing) {
        this.#failing = true;
        this.#logger.warn(
          { otlp: this.#target, err: result.error, spans: spans.length },
          "cannot export spans; dropping them until the OTLP endpoint answers (said once)",
        );
      }
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}
