import { setTimeout as sleep } from "node:timers/promises";
import type { LogPosition } from "../persistence/job-records.ts";
import { ALL_LINES, type JobStore } from "../persistence/job-store.ts";
import { logLineView } from "./job-views.ts";
import { formatSse, SSE_KEEPALIVE } from "./server-sent-events.ts";

// Lines fetched per query while following.
const PAGE = 200;

/** A line's SSE `id`: `seq.line` (`42.3`). */
export function lastEventId(position: LogPosition): string {
  return `${position.seq}.${position.line}`;
}

/**
 * The position a `Last-Event-ID` names: `seq.line`, or a bare `seq` (from an older orchestrator:
 * after every line of that event); undefined when absent or not one of these.
 */
export function parseLastEventId(header: string | string[] | undefined): LogPosition | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = /^(-?\d{1,10})(?:\.(\d{1,10}))?$/.exec(value?.trim() ?? "");
  if (match === null) return undefined;
  return { seq: Number(match[1]), line: match[2] === undefined ? ALL_LINES : Number(match[2]) };
}

/** What `followLogs` needs: where to read, where to write, when to stop. */
export interface FollowLogsOptions {
  readonly store: JobStore;
  readonly requestId: string;
  /** Start after this line (undefined: from the oldest kept line). */
  readonly after: LogPosition | undefined;
  /** How often to look for new lines while none come. */
  readonly pollMs: number;
  /** Send a keep-alive comment after this long without an event. */
  readonly keepAliveMs: number;
  /** Writes to the client; resolves when the chunk may be followed by another (back-pressure). */
  readonly write: (chunk: string) => Promise<void>;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

/**
 * Streams a job's stored log lines as server-sent events (`event: log`, `id` = `seq.line`, `data`
 * = the line as JSON) as they are stored, until the job finishes: then the last lines, and one
 * `event: end` whose data is `{ state, conclusion, reason }`. A client that reconnects with
 * `Last-Event-ID` resumes after the last line it saw.
 */
export async function followLogs(options: FollowLogsOptions): Promise<void> {
  const { store, requestId, signal } = options;
  let cursor = options.after;
  let lastWrite = Date.now();
  const send = async (chunk: string) => {
    await options.write(chunk);
    lastWrite = Date.now();
  };
  const drain = async (): Promise<number> => {
    let sent = 0;
    for (;;) {
      const lines = await store.getLogs(requestId, { after: cursor, limit: PAGE });
      for (const line of lines) {
        if (signal.aborted) return sent;
        await send(
          formatSse({ id: lastEventId(line), event: "log", data: JSON.stringify(logLineView(line)) }),
        );
        cursor = line;
      }
      sent += lines.length;
      if (lines.length < PAGE) return sent;
    }
  };

  while (!signal.aborted) {
    await drain();
    const job = await store.getJob(requestId);
    if (job === undefined || job.state === "finished") {
      // Lines stored before the job finished are read after seeing it finished: none is lost.
      await drain();
      const end = {
        state: job?.state ?? "unknown",
        conclusion: job?.conclusion ?? null,
        reason: job?.reason ?? null,
      };
      if (!signal.aborted) await send(formatSse({ event: "end", data: JSON.stringify(end) }));
      return;
    }
    if (Date.now() - lastWrite >= options.keepAliveMs) await send(SSE_KEEPALIVE);
    try {
      await sleep(options.pollMs, undefined, { signal });
    } catch {
      return; // aborted: the client left
    }
  }
}
