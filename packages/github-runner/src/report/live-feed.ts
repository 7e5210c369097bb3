import WebSocket from "ws";
import { randomBackoff } from "../broker/broker-backoff.ts";
import type { FeedBatch } from "./job-report.ts";

// The live console: lines go over a WebSocket to SystemVssConnection's FeedStreamUrl (https
// becomes wss), with `Authorization: Bearer <job token>`, each batch one text message of
// TimelineRecordFeedLinesWrapper JSON: `{count, value: [lines], stepId, startLine}` (startLine
// 1-based in the step's log). The reference sends the JSON in 1 KiB frames of one message; ws
// sends it whole (one message either way). Delivery is best effort and never blocks the job:
// a batch that cannot be sent is dropped; a broken connection is retried after 100–500 ms, up
// to three times, then not before ten minutes have passed.

/** One feed frame. */
export function feedFrame(batch: FeedBatch): string {
  return JSON.stringify({
    count: batch.lines.length,
    value: batch.lines,
    stepId: batch.stepExternalId,
    startLine: batch.startLine,
  });
}

/** `wss://` for `https://`, `ws://` for `http://`. */
export function feedSocketUrl(feedStreamUrl: string): string {
  return feedStreamUrl.replace(/^https:\/\//i, "wss://").replace(/^http:\/\//i, "ws://");
}

/** Options of {@link LiveFeed}. */
export interface LiveFeedOptions {
  readonly url: string;
  readonly token: string;
  readonly userAgent?: string;
  readonly onError?: (error: unknown) => void;
  /** For tests. */
  readonly createSocket?: (url: string, headers: Record<string, string>) => WebSocket;
}

/** A best-effort live feed connection of one job. */
export class LiveFeed {
  readonly #options: LiveFeedOptions;
  #socket: WebSocket | undefined;
  #connecting: Promise<void> | undefined;
  #failures = 0;
  #lastFailure = 0;
  #closed = false;

  constructor(options: LiveFeedOptions) {
    this.#options = options;
  }

  /** Sends the batches; resolves whether they were sent (never rejects). */
  async send(batches: readonly FeedBatch[]): Promise<boolean> {
    if (this.#closed || batches.length === 0) return false;
    const socket = await this.#open();
    if (socket === undefined) return false;
    try {
      for (const batch of batches) socket.send(feedFrame(batch));
      return true;
    } catch (error) {
      this.#options.onError?.(error);
      this.#drop();
      return false;
    }
  }

  /** Closes the connection. */
  close(): void {
    this.#closed = true;
    this.#socket?.close(1000, "Closing websocket");
    this.#socket = undefined;
  }

  #drop(): void {
    this.#socket?.terminate();
    this.#socket = undefined;
    this.#failures += 1;
    this.#lastFailure = Date.now();
  }

  async #open(): Promise<WebSocket | undefined> {
    if (isOpen(this.#socket)) return this.#socket;
    if (this.#failures >= 3) {
      if (Date.now() - this.#lastFailure < 10 * 60_000) return undefined;
      this.#failures = 0;
    }
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    await this.#connecting;
    const socket = this.#socket;
    return isOpen(socket) ? socket : undefined;
  }

  async #connect(): Promise<void> {
    if (this.#failures > 0) await new Promise((r) => setTimeout(r, randomBackoff(100, 500)));
    const headers: Record<string, string> = { authorization: `Bearer ${this.#options.token}` };
    if (this.#options.userAgent !== undefined) headers["user-agent"] = this.#options.userAgent;
    const url = feedSocketUrl(this.#options.url);
    const socket =
      this.#options.createSocket?.(url, headers) ?? new WebSocket(url, { headers, handshakeTimeout: 30_000 });
    await new Promise<void>((resolve) => {
      const done = () => {
        socket.off("open", onOpen);
        socket.off("error", onError);
        resolve();
      };
      const onOpen = () => {
        this.#socket = socket;
        this.#failures = 0;
        done();
      };
      const onError = (error: unknown) => {
        this.#options.onError?.(error);
        this.#failures += 1;
        this.#lastFailure = Date.now();
        done();
      };
      socket.once("open", onOpen);
      socket.once("error", onError);
    });
    socket.on("error", (error) => this.#options.onError?.(error));
    socket.on("close", () => {
      if (this.#socket === socket) this.#socket = undefined;
    });
  }
}

function isOpen(socket: WebSocket | undefined): socket is WebSocket {
  return socket !== undefined && socket.readyState === WebSocket.OPEN;
}
