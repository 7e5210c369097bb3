import {
  ApiErrorBodySchema,
  CancelAnswerSchema,
  type FleetView,
  FleetViewSchema,
  ImageListSchema,
  type ImageView,
  type JobDetail,
  JobDetailSchema,
  JobListSchema,
  type JobView,
  type LogEnd,
  LogEndSchema,
  type LogLineView,
  LogLineViewSchema,
  type LogPage,
  LogPageSchema,
  ReadinessAnswerSchema,
  WarmAnswerSchema,
} from "@solstice/common";
import type { z } from "zod";
import type { ApiTarget } from "../cli/connection-options.ts";
import { ApiError, ApiResponseError, ApiUnreachableError } from "../errors.ts";
import {
  checkIdPrefix,
  type IdCandidate,
  isFullRequestId,
  MAX_PREFIX_SCAN,
  matchIdPrefix,
} from "./id-prefix.ts";
import { SseParser } from "./sse-parser.ts";

/** Where a page of log lines starts: after this line (`line` absent: after all of event `seq`). */
export interface LogCursor {
  readonly seq: number;
  readonly line?: number | undefined;
}

/** `GET /v1/jobs` filters. */
export interface JobQuery {
  readonly state?: string | undefined;
  readonly label?: string | undefined;
  readonly host?: string | undefined;
  readonly limit?: number | undefined;
  readonly before?: string | undefined;
}

/**
 * The orchestrator's HTTP API, for ciadm: jobs, logs (pages and live), cancel, readiness. Every
 * answer is validated; errors say what to do (`ApiUnreachableError`, `ApiError` with the API's
 * code, `ApiResponseError`).
 *
 * @example
 *   const api = new OrchestratorClient({ url: "http://127.0.0.1:8081", token: undefined });
 *   const { jobs } = await api.listJobs({ state: "running" });
 */
export class OrchestratorClient {
  readonly #target: ApiTarget;
  readonly #timeoutMs: number;

  constructor(target: ApiTarget, options: { timeoutMs?: number } = {}) {
    this.#target = target;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
  }

  get url(): string {
    return this.#target.url;
  }

  async listJobs(query: JobQuery = {}): Promise<{ jobs: JobView[]; next_before: string | null }> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const qs = params.size === 0 ? "" : `?${params}`;
    return this.#json(`/v1/jobs${qs}`, JobListSchema);
  }

  /**
   * The whole request id for `text`: a whole id as is, else the one job among the newest
   * {@link MAX_PREFIX_SCAN} whose id starts with it (as git takes short commit ids).
   * @throws IdPrefixError, JobIdNotFoundError, JobIdAmbiguousError (listing the candidates)
   */
  async resolveJobId(text: string): Promise<string> {
    if (isFullRequestId(text)) return text.toLowerCase();
    const prefix = checkIdPrefix(text);
    const seen: IdCandidate[] = [];
    let before: string | undefined;
    while (seen.length < MAX_PREFIX_SCAN) {
      const page = await this.listJobs({ limit: 1_000, before });
      seen.push(...page.jobs);
      if (page.next_before === null || page.jobs.length === 0) break;
      before = page.next_before;
    }
    return matchIdPrefix(prefix, seen);
  }

  /** @throws ApiError `JOB_NOT_FOUND` for an unknown id */
  async getJob(id: string): Promise<JobDetail> {
    return this.#json(`/v1/jobs/${encodeURIComponent(id)}`, JobDetailSchema);
  }

  /** The job, or undefined while no orchestrator has recorded it. */
  async findJob(id: string): Promise<JobDetail | undefined> {
    try {
      return await this.getJob(id);
    } catch (error) {
      if (error instanceof ApiError && error.apiCode === "JOB_NOT_FOUND") return undefined;
      throw error;
    }
  }

  /**
   * One page of stored log lines after `after` (a line's `seq` and `line`; `line` absent: after
   * every line of that event). Pass the page's `next_after_seq`/`next_after_line` back while
   * `has_more` is true (see {@link logLines}).
   */
  async logPage(
    id: string,
    options: { after?: LogCursor | undefined; limit?: number } = {},
  ): Promise<LogPage> {
    const params = new URLSearchParams();
    if (options.after !== undefined) {
      params.set("after_seq", String(options.after.seq));
      if (options.after.line !== undefined) params.set("after_line", String(options.after.line));
    }
    if (options.limit !== undefined) params.set("limit", String(options.limit));
    return this.#json(`/v1/jobs/${encodeURIComponent(id)}/logs?${params}`, LogPageSchema);
  }

  /**
   * Every stored line of a job, in order, page after page of `pageLines` (each page is asked for
   * once its lines were handed to `onLine`, so only one page is in memory at a time).
   */
  async logLines(
    id: string,
    onLine: (line: LogLineView) => void,
    options: { pageLines?: number } = {},
  ): Promise<void> {
    const limit = options.pageLines ?? 1_000;
    let after: LogCursor | undefined;
    for (;;) {
      const page = await this.logPage(id, { after, limit });
      for (const line of page.lines) onLine(line);
      // An orchestrator without `has_more` ends a page early only when no line follows it.
      const more = page.has_more ?? page.lines.length >= limit;
      if (!more || page.lines.length === 0 || page.next_after_seq === null) return;
      after = { seq: page.next_after_seq, line: page.next_after_line ?? undefined };
    }
  }

  /**
   * Follows a job's log live (server-sent events) until the job finishes; `onLine` gets each line
   * once, in order. A dropped stream is resumed after the last line seen (`Last-Event-ID`).
   */
  async followLogs(
    id: string,
    onLine: (line: LogLineView) => void,
    options: { signal?: AbortSignal } = {},
  ): Promise<LogEnd> {
    let last: LogLineView | undefined;
    let failures = 0;
    for (;;) {
      const url = `${this.#target.url}/v1/jobs/${encodeURIComponent(id)}/logs?follow=1`;
      let response: Response;
      try {
        response = await fetch(url, {
          headers: {
            ...this.#auth(),
            accept: "text/event-stream",
            ...(last === undefined ? {} : { "last-event-id": `${last.seq}.${last.line}` }),
          },
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        });
      } catch (error) {
        if (options.signal?.aborted === true || ++failures > 5)
          throw new ApiUnreachableError(this.#target.url, error);
        await new Promise((resolve) => setTimeout(resolve, 500 * failures));
        continue;
      }
      if (!response.ok) throw await this.#error(response, url);
      const parser = new SseParser();
      try {
        for await (const chunk of response.body ?? []) {
          for (const event of parser.push(chunk as Uint8Array)) {
            if (event.event === "log") {
              const line = parse(LogLineViewSchema, event.data, url);
              if (last === undefined || isAfter(line, last)) {
                last = line;
                onLine(line);
              }
            } else if (event.event === "end") {
              return parse(LogEndSchema, event.data, url);
            }
          }
        }
      } catch (error) {
        if (options.signal?.aborted === true) throw error;
      }
      // The stream ended without `end` (the orchestrator restarted, a proxy cut it): resume.
      if (++failures > 5)
        throw new ApiUnreachableError(this.#target.url, new Error("the log stream kept ending"));
      await new Promise((resolve) => setTimeout(resolve, 500 * failures));
    }
  }

  /** `POST /v1/jobs/:id/cancel`. @throws ApiError `JOB_NOT_FOUND`, `JOB_FINISHED` */
  async cancel(id: string, reason: string | undefined): Promise<z.infer<typeof CancelAnswerSchema>> {
    return this.#json(`/v1/jobs/${encodeURIComponent(id)}/cancel`, CancelAnswerSchema, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(reason === undefined ? {} : { reason }),
    });
  }

  /** `GET /v1/images`: the images this orchestrator serves, with their warm templates. */
  async listImages(): Promise<ImageView[]> {
    return (await this.#json("/v1/images", ImageListSchema)).images;
  }

  /** `POST /v1/images/:label/warm`: (re)builds the label's template and answers once it is built. */
  async warmImage(label: string): Promise<ImageView> {
    return this.#json(`/v1/images/${encodeURIComponent(label)}/warm`, WarmAnswerSchema, { method: "POST" });
  }

  /** `GET /v1/fleet`: every orchestrator host (labels, capacity, running jobs, last seen) and the label queues. */
  async fleet(): Promise<FleetView> {
    return this.#json("/v1/fleet", FleetViewSchema);
  }

  /** `GET /readyz`: ready or not, with each check's answer. */
  async readiness(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const url = `${this.#target.url}/readyz`;
    const response = await this.#fetch(url, {});
    if (response.status !== 200 && response.status !== 503) throw await this.#error(response, url);
    const body = parse(ReadinessAnswerSchema, await response.text(), url);
    return { ready: response.status === 200, checks: body.checks };
  }

  #auth(): Record<string, string> {
    return this.#target.token === undefined ? {} : { authorization: `Bearer ${this.#target.token}` };
  }

  async #fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, {
        ...init,
        headers: { ...this.#auth(), ...(init.headers as Record<string, string> | undefined) },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new ApiUnreachableError(this.#target.url, error);
    }
  }

  async #json<T extends z.ZodType>(path: string, schema: T, init: RequestInit = {}): Promise<z.infer<T>> {
    const url = `${this.#target.url}${path}`;
    const response = await this.#fetch(url, init);
    if (!response.ok) throw await this.#error(response, url);
    return parse(schema, await response.text(), url);
  }

  async #error(response: Response, url: string): Promise<Error> {
    const text = await response.text().catch(() => "");
    const body = ApiErrorBodySchema.safeParse(safeJson(text));
    if (body.success) return new ApiError(response.status, body.data.error.code, body.data.error.message);
    return new ApiResponseError(url, `HTTP ${response.status} ${text.slice(0, 200)}`);
  }
}

/** Lines are ordered by `seq`, then `line`. */
function isAfter(line: LogLineView, other: LogLineView): boolean {
  return line.seq > other.seq || (line.seq === other.seq && line.line > other.line);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parse<T extends z.ZodType>(schema: T, text: string, url: string): z.infer<T> {
  const result = schema.safeParse(safeJson(text));
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ApiResponseError(url, `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`);
  }
  return result.data;
}
