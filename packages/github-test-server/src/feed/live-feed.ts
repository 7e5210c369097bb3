import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { bearerToken } from "../auth/authorization-header.ts";
import type { ServerContext } from "../server-context.ts";
import { parseFeedFrame } from "./feed-frame.ts";

// The live console feed: the job's `FeedStreamUrl`, a WebSocket the runner opens with the job's
// token (`Authorization: Bearer`) and writes line frames to. Each line is stored with the time
// its frame arrived, to the sub-millisecond, for latency benchmarks.

/** Accepts feed WebSocket upgrades under `/feed/{jobId}`. */
export class LiveFeed {
  readonly #server = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  readonly #context: ServerContext;
  readonly #path: string;

  constructor(context: ServerContext) {
    this.#context = context;
    this.#path = new URL(context.urls.feed.replace(/^ws/, "http")).pathname;
  }

  /** Handles an HTTP upgrade if it is for the feed; returns false (touching nothing) otherwise. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? "/", "http://localhost");
    const match = new RegExp(`^${this.#path}/(?<jobId>[0-9a-fA-F-]{36})$`).exec(url.pathname);
    if (match === null) return false;
    const done = this.#context.calls.start("feed-connect", req.method ?? "GET", url.pathname);
    const refuse = (status: number, text: string, headers: string[] = []): void => {
      done(status, false);
      socket.end(
        [`HTTP/1.1 ${status} ${text}`, "Connection: close", "Content-Length: 0", ...headers, "", ""].join(
          "\r\n",
        ),
      );
    };
    const jobId = (match.groups?.jobId ?? "").toLowerCase();
    const fault = this.#context.calls.takeFault("feed-connect");
    if (fault !== undefined) {
      done(fault.kind === "fail" ? fault.status : 0, true);
      if (fault.kind === "fail") socket.end(`HTTP/1.1 ${fault.status} Injected\r\nContent-Length: 0\r\n\r\n`);
      else socket.destroy();
      return true;
    }
    const check = this.#context.tokens.check(bearerToken(req.headers.authorization));
    if (!check.ok) {
      refuse(401, "Unauthorized", ['WWW-Authenticate: Bearer error="invalid_token"']);
      return true;
    }
    const job = this.#context.jobs.get(jobId);
    if (check.subject.kind !== "job" || job === undefined || check.subject.jobId !== job.id) {
      refuse(403, "Forbidden");
      return true;
    }
    this.#server.handleUpgrade(req, socket, head, (ws) => {
      done(101, false);
      ws.on("message", (data, isBinary) => {
        const receivedAt = performance.timeOrigin + performance.now();
        const text = Array.isArray(data)
          ? Buffer.concat(data).toString("utf8")
          : Buffer.from(data as ArrayBuffer).toString("utf8");
        const parsed = isBinary
          ? { ok: false as const, reason: "binary frame: the feed takes text frames" }
          : parseFeedFrame(text);
        if (!parsed.ok) {
          job.feedRejected.push({ at: new Date(), reason: parsed.reason, frame: text.slice(0, 2000) });
        } else {
          const { stepId, lines, startLine } = parsed.frame;
          lines.forEach((line, i) => {
            job.feed.push({
              stepId,
              lineNumber: startLine === undefined ? undefined : startLine + i,
              text: line,
              receivedAt,
            });
          });
        }
        this.#context.jobs.changed();
      });
    });
    return true;
  }

  /** Closes every feed connection. */
  close(): void {
    for (const client of this.#server.clients) client.terminate();
    this.#server.close();
  }
}
