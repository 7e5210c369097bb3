import type { LogPage } from "@solstice/common";
import type { LogLine, LogPosition } from "../persistence/job-records.ts";
import { ALL_LINES } from "../persistence/job-store.ts";
import { logLineView } from "./job-views.ts";

// `GET /v1/jobs/:id/logs` without `follow`: one page of a job's stored lines as a JSON document
// (`LogPage` in common's contract), written as it is read — a few hundred lines at a time from the
// store — so a large page never sits whole in memory. A page ends at `limit` lines or once its text
// reaches `maxBytes` (at least one line); `has_more` says whether lines follow it.

/** Lines read from the store at a time. */
export const LOG_PAGE_CHUNK = 200;
/** A page stops after the line that brings its text to this many bytes. */
export const MAX_LOG_PAGE_BYTES = 4 * 1024 * 1024;

/** What one page is made from. */
export interface LogPageSource {
  readonly requestId: string;
  /** The job's state, as the page reports it. */
  readonly state: string;
  /** The client's cursor: `after_seq` and `after_line` (absent: after every line of the event). */
  readonly afterSeq: number | undefined;
  readonly afterLine: number | undefined;
  /** Lines in the page, at most. */
  readonly limit: number;
  /** Text bytes in the page, about (default {@link MAX_LOG_PAGE_BYTES}). */
  readonly maxBytes?: number | undefined;
  /** Reads lines after a position, in order (the store's `getLogs`). */
  readonly read: (after: LogPosition | undefined, limit: number) => Promise<LogLine[]>;
}

/**
 * Reads the page's first lines (so a store that fails does so before anything is sent), then
 * returns the page's JSON text in pieces, reading the rest as it is consumed.
 *
 * @example
 *   const body = await openLogPage({ requestId, state, afterSeq, afterLine, limit, read });
 *   reply.type("application/json").send(Readable.from(body));
 */
export async function openLogPage(source: LogPageSource): Promise<AsyncIterable<string>> {
  const start: LogPosition | undefined =
    source.afterSeq === undefined ? undefined : { seq: source.afterSeq, line: source.afterLine ?? ALL_LINES };
  const first = await source.read(start, Math.min(LOG_PAGE_CHUNK, source.limit) + 1);
  return pageText(source, first);
}

async function* pageText(source: LogPageSource, first: LogLine[]): AsyncGenerator<string> {
  const maxBytes = source.maxBytes ?? MAX_LOG_PAGE_BYTES;
  const head: Omit<LogPage, "lines" | "next_after_seq" | "next_after_line" | "has_more"> = {
    request_id: source.requestId,
    state: source.state,
  };
  yield `${JSON.stringify(head).slice(0, -1)},"lines":[`;
  let last: LogLine | undefined;
  let sent = 0;
  let bytes = 0;
  let more = false;
  let chunk = first;
  for (;;) {
    // Each read asks for one line more than it may use: that line says whether more follow.
    const room = Math.min(LOG_PAGE_CHUNK, source.limit - sent);
    const usable = chunk.slice(0, room);
    let full = false;
    const pieces: string[] = [];
    for (const line of usable) {
      pieces.push(JSON.stringify(logLineView(line)));
      last = line;
      sent += 1;
      bytes += Buffer.byteLength(line.text, "utf8");
      if (bytes >= maxBytes) {
        full = true;
        break;
      }
    }
    if (pieces.length > 0) yield `${sent > pieces.length ? "," : ""}${pieces.join(",")}`;
    if (full) {
      more = chunk.length > pieces.length;
      break;
    }
    if (chunk.length <= room) break; // the store has nothing after this chunk
    if (sent >= source.limit) {
      more = true;
      break;
    }
    chunk = await source.read(last, Math.min(LOG_PAGE_CHUNK, source.limit - sent) + 1);
  }
  const tail: Pick<LogPage, "next_after_seq" | "next_after_line" | "has_more"> = {
    next_after_seq: last?.seq ?? source.afterSeq ?? null,
    next_after_line: last?.line ?? (source.afterSeq === undefined ? null : (source.afterLine ?? null)),
    has_more: more,
  };
  yield `],${JSON.stringify(tail).slice(1)}`;
}
