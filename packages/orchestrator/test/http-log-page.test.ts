import { LogPageSchema } from "@solstice/common";
import { describe, expect, test } from "vitest";
import { LOG_PAGE_CHUNK, openLogPage } from "../src/http/log-page.ts";
import type { LogLine, LogPosition } from "../src/persistence/job-records.ts";
import { ALL_LINES } from "../src/persistence/job-store.ts";

// One page of `GET /v1/jobs/:id/logs`, written as it is read: the store is asked a chunk at a time
// (never the whole page), the JSON matches the contract, and the page stops at its line limit or
// its size, saying whether more follow.

const ID = "6f1c0c7e-0000-4000-8000-000000000001";

/** A job's stored lines: `events` events of `perEvent` lines each, `bytes` of text per line. */
function storedLines(events: number, perEvent: number, bytes = 10): LogLine[] {
  const out: LogLine[] = [];
  for (let seq = 0; seq < events; seq++) {
    for (let line = 0; line < perEvent; line++) {
      const text = `${seq}.${line}:`.padEnd(bytes, "x");
      out.push({ requestId: ID, seq: seq * 2, line, step: 0, stream: "stdout", text, ts: new Date(0) });
    }
  }
  return out;
}

/** A store over `lines` that records the size of every read. */
function fakeStore(lines: readonly LogLine[]) {
  const reads: number[] = [];
  const after = (l: LogLine, p: LogPosition) => l.seq > p.seq || (l.seq === p.seq && l.line > p.line);
  return {
    reads,
    read: async (position: LogPosition | undefined, limit: number) => {
      reads.push(limit);
      return lines.filter((l) => position === undefined || after(l, position)).slice(0, limit);
    },
  };
}

async function text(body: AsyncIterable<string>): Promise<{ pieces: number; json: unknown }> {
  let all = "";
  let pieces = 0;
  for await (const piece of body) {
    all += piece;
    pieces += 1;
  }
  return { pieces, json: JSON.parse(all) };
}

describe("a log page", () => {
  test("is read a chunk at a time and written piece by piece; limit counts lines", async () => {
    const lines = storedLines(10, 500); // 5,000 lines
    const store = fakeStore(lines);
    const body = await openLogPage({
      requestId: ID,
      state: "running",
      afterSeq: undefined,
      afterLine: undefined,
      limit: 1_000,
      read: store.read,
    });
    // The first chunk is read before anything is written (a failing store fails the request).
    expect(store.reads).toEqual([LOG_PAGE_CHUNK + 1]);
    const { pieces, json } = await text(body);
    const page = LogPageSchema.parse(json);
    expect(page.lines).toHaveLength(1_000);
    expect(page.lines[0]).toMatchObject({ seq: 0, line: 0, text: "0.0:xxxxxx" });
    expect(page).toMatchObject({ request_id: ID, state: "running", next_after_seq: 2, next_after_line: 499 });
    expect(page.has_more).toBe(true);
    expect(Math.max(...store.reads)).toBeLessThanOrEqual(LOG_PAGE_CHUNK + 1);
    expect(pieces).toBeGreaterThanOrEqual(1_000 / LOG_PAGE_CHUNK);
  });

  test("starts after a line, or after every line of an event; the last page says nothing follows", async () => {
    const store = fakeStore(storedLines(3, 4));
    const mid = LogPageSchema.parse(
      (
        await text(
          await openLogPage({
            requestId: ID,
            state: "finished",
            afterSeq: 2,
            afterLine: 1,
            limit: 3,
            read: store.read,
          }),
        )
      ).json,
    );
    expect(mid.lines.map((l) => [l.seq, l.line])).toEqual([
      [2, 2],
      [2, 3],
      [4, 0],
    ]);
    expect(mid.has_more).toBe(true);
    const rest = LogPageSchema.parse(
      (
        await text(
          await openLogPage({
            requestId: ID,
            state: "finished",
            afterSeq: 2,
            afterLine: undefined,
            limit: 100,
            read: store.read,
          }),
        )
      ).json,
    );
    expect(rest.lines.map((l) => [l.seq, l.line])).toEqual([
      [4, 0],
      [4, 1],
      [4, 2],
      [4, 3],
    ]);
    expect(rest).toMatchObject({ has_more: false, next_after_seq: 4, next_after_line: 3 });
    const none = LogPageSchema.parse(
      (
        await text(
          await openLogPage({
            requestId: ID,
            state: "finished",
            afterSeq: 4,
            afterLine: 3,
            limit: 100,
            read: store.read,
          }),
        )
      ).json,
    );
    expect(none).toMatchObject({ lines: [], has_more: false, next_after_seq: 4, next_after_line: 3 });
    const empty = LogPageSchema.parse(
      (
        await text(
          await openLogPage({
            requestId: ID,
            state: "accepted",
            afterSeq: undefined,
            afterLine: undefined,
            limit: 5,
            read: fakeStore([]).read,
          }),
        )
      ).json,
    );
    expect(empty).toMatchObject({ lines: [], has_more: false, next_after_seq: null, next_after_line: null });
  });

  test("stops once its text reaches the byte budget (at least one line), saying more follow", async () => {
    const store = fakeStore(storedLines(1, 50, 1_000));
    const page = LogPageSchema.parse(
      (
        await text(
          await openLogPage({
            requestId: ID,
            state: "running",
            afterSeq: undefined,
            afterLine: undefined,
            limit: 1_000,
            maxBytes: 4_500,
            read: store.read,
          }),
        )
      ).json,
    );
    expect(page.lines.map((l) => l.line)).toEqual([0, 1, 2, 3, 4]);
    expect(page).toMatchObject({ has_more: true, next_after_seq: 0, next_after_line: 4 });
    const huge = LogPageSchema.parse(
      (
        await text(
          await openLogPage({
            requestId: ID,
            state: "running",
            afterSeq: 0,
            afterLine: 48,
            limit: 10,
            maxBytes: 1,
            read: store.read,
          }),
        )
      ).json,
    );
    expect(huge.lines.map((l) => l.line)).toEqual([49]);
    expect(huge.has_more).toBe(false);
    expect(ALL_LINES).toBeGreaterThan(1_000_000);
  });
});
