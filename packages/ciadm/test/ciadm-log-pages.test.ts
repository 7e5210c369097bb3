import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { LogLineView } from "@solstice/common";
import { afterEach, describe, expect, test } from "vitest";
import { OrchestratorClient } from "../src/api/orchestrator-client.ts";

// `ciadm logs` reads a job's stored log page after page: each page starts after the last line of
// the one before (a `seq` and a `line` within it), until the orchestrator says nothing follows.
// Served here by a small HTTP server over a fixed log, as the orchestrator pages it.

const ID = "6f1c0c7e-2b1a-4c3d-8e9f-0a1b2c3d4e5f";

/** 3 events of 1,200 lines each (seq 1, 3, 5): more lines than one page, inside one event. */
const LOG: LogLineView[] = [1, 3, 5].flatMap((seq) =>
  Array.from({ length: 1_200 }, (_, line) => ({
    seq,
    line,
    step: 0,
    stream: "stdout",
    text: `${seq}:${line}`,
    ts: "2026-03-01T12:00:00.000Z",
  })),
);

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

/** Serves LOG's pages (`old`: as an orchestrator from before paging by line: no `has_more`). */
async function serve(options: { old?: boolean } = {}): Promise<{ url: string; queries: string[] }> {
  const queries: string[] = [];
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    queries.push(url.search);
    const afterSeq = url.searchParams.get("after_seq");
    const afterLine = url.searchParams.get("after_line");
    const limit = Number(url.searchParams.get("limit") ?? 1_000);
    const after = (l: LogLineView) =>
      afterSeq === null ||
      l.seq > Number(afterSeq) ||
      (l.seq === Number(afterSeq) && afterLine !== null && l.line > Number(afterLine));
    const rest = LOG.filter(after);
    const lines = rest.slice(0, limit);
    const last = lines.at(-1);
    const page = options.old
      ? { request_id: ID, state: "finished", next_after_seq: last?.seq ?? null, lines }
      : {
          request_id: ID,
          state: "finished",
          next_after_seq: last?.seq ?? null,
          next_after_line: last?.line ?? null,
          has_more: rest.length > lines.length,
          lines,
        };
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(page));
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, queries };
}

describe("ciadm logs pages", () => {
  test("every line once, in order, each page starting after the last line of the one before", async () => {
    const { url, queries } = await serve();
    const api = new OrchestratorClient({ url, token: undefined });
    const got: LogLineView[] = [];
    await api.logLines(ID, (line) => got.push(line));
    expect(got.map((l) => l.text)).toEqual(LOG.map((l) => l.text));
    expect(queries).toEqual([
      "?limit=1000",
      "?after_seq=1&after_line=999&limit=1000",
      "?after_seq=3&after_line=799&limit=1000",
      "?after_seq=5&after_line=599&limit=1000",
    ]);
  });

  test("an orchestrator without line paging: its pages are read until one is short", async () => {
    const { url } = await serve({ old: true });
    const api = new OrchestratorClient({ url, token: undefined });
    const got: LogLineView[] = [];
    await api.logLines(ID, (line) => got.push(line), { pageLines: 500 });
    // Without a line cursor a page resumes after the whole event: what such an orchestrator had.
    expect(got[0]).toMatchObject({ seq: 1, line: 0 });
    expect(new Set(got.map((l) => l.seq))).toEqual(new Set([1, 3, 5]));
  });
});
