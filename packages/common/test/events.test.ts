import { describe, expect, it } from "vitest";
import {
  EventReorderer,
  EventSequencer,
  type JobEvent,
  JobEventMismatchError,
  JobEventSchema,
  MessageValidationError,
  parseMessage,
  parseMessageText,
} from "../src/index.ts";

const REQUEST_ID = "0b6f8a52-3c1d-4e7f-9a2b-5c6d7e8f9a0b";
const OTHER_ID = "9e1d2c3b-4a5f-4e6d-8c7b-6a5f4e3d2c1b";
const T = "2025-10-25T18:00:32.123456789Z";

function fixedClock(): () => string {
  let n = 0;
  return () => `2025-10-25T18:00:${String(n++).padStart(2, "0")}Z`;
}

/** A job's worth of events: started, two steps with output, finished. */
function sampleJob(requestId = REQUEST_ID): JobEvent[] {
  const seq = new EventSequencer(requestId, { now: fixedClock() });
  return [
    seq.next({ type: "job_started", host: "host-a", label: "omnios-bloody" }),
    seq.next({ type: "log", step: null, stream: "system", text: "VM booted" }),
    seq.next({ type: "step_started", step: 0, name: "Build" }),
    seq.next({ type: "log", step: 0, stream: "stdout", text: "compiling" }),
    seq.next({ type: "log", step: 0, stream: "stderr", text: "warning: x" }),
    seq.next({ type: "step_finished", step: 0, exit_code: 0, duration_ms: 1200, conclusion: "success" }),
    seq.next({ type: "step_started", step: 1, name: "Test" }),
    seq.next({ type: "step_finished", step: 1, exit_code: 3, duration_ms: 40, conclusion: "failure" }),
    seq.next({ type: "step_finished", step: 2, exit_code: null, duration_ms: 0, conclusion: "skipped" }),
    seq.next({ type: "job_finished", conclusion: "failure", reason: "step 1 (Test) exited with 3" }),
  ];
}

/** A deterministic shuffle (mulberry32), so a failure can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let a = seed;
  const random = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("job event schemas", () => {
  it("every event of a job survives JSON and validation unchanged", () => {
    for (const event of sampleJob()) {
      const back = parseMessageText(JobEventSchema, JSON.stringify(event));
      expect(back).toEqual(event);
    }
  });

  it("a consumer switches on type", () => {
    const summary = sampleJob().map((event) => {
      switch (event.type) {
        case "log":
          return `${event.step ?? "-"}/${event.stream}`;
        case "step_started":
          return `start ${event.name}`;
        case "step_finished":
          return `${event.step}:${event.conclusion}:${event.exit_code ?? "none"}`;
        case "job_started":
          return `job on ${event.host ?? "?"}`;
        case "job_finished":
          return `end ${event.conclusion}`;
        default: {
          // Compile-time check that every event type is handled.
          const unhandled: never = event;
          return String(unhandled);
        }
      }
    });
    expect(summary).toEqual([
      "job on host-a",
      "-/system",
      "start Build",
      "0/stdout",
      "0/stderr",
      "0:success:0",
      "start Test",
      "1:failure:3",
      "2:skipped:none",
      "end failure",
    ]);
  });

  it("fills schema_version when absent and keeps nanosecond timestamps", () => {
    const event = parseMessage(JobEventSchema, {
      type: "log",
      request_id: REQUEST_ID,
      step: 0,
      stream: "stdout",
      text: "x",
      timestamp: T,
      seq: 0,
    });
    expect(event).toMatchObject({ schema_version: "jobevent.v1", timestamp: T });
  });

  it.each([
    [
      "an unknown type",
      { type: "step_paused" },
      "type",
      'expected "log" or "job_started" or "step_started" or "step_finished" or "job_finished", got "step_paused"',
    ],
    ["a bad stream", { stream: "stdin" }, "stream", 'expected "stdout" or "stderr" or "system", got "stdin"'],
    ["a negative seq", { seq: -1 }, "seq", "expected a number >= 0, got number -1"],
    ["a fractional step", { step: 0.5 }, "step", "expected an integer, got number 0.5"],
    [
      "a timestamp without offset",
      { timestamp: "2025-10-25T18:00:32" },
      "timestamp",
      "expected an RFC 3339 date-time (e.g. 2025-10-25T18:00:32.123456789Z)",
    ],
    [
      "another schema version",
      { schema_version: "jobevent.v2" },
      "schema_version",
      'expected "jobevent.v1", got "jobevent.v2"',
    ],
  ])("rejects %s", (_what, patch, path, message) => {
    const base = {
      type: "log",
      request_id: REQUEST_ID,
      step: 0,
      stream: "stdout",
      text: "x",
      timestamp: T,
      seq: 0,
    };
    let error: unknown;
    try {
      parseMessage(JobEventSchema, { ...base, ...patch });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MessageValidationError);
    expect((error as MessageValidationError).issues).toEqual([{ path, message }]);
  });

  it("a step_finished needs its conclusion and duration", () => {
    expect(() =>
      parseMessage(JobEventSchema, {
        type: "step_finished",
        request_id: REQUEST_ID,
        step: 0,
        exit_code: 0,
        timestamp: T,
        seq: 1,
      }),
    ).toThrow(
      'invalid JobEvent: duration_ms: required (expected number); conclusion: required (expected "success" or "failure" or "skipped" or "cancelled")',
    );
  });
});

describe("EventSequencer", () => {
  it("numbers every event of a job from 0, whatever its type, and stamps it", () => {
    const events = sampleJob();
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(events.every((e) => e.request_id === REQUEST_ID && e.schema_version === "jobevent.v1")).toBe(true);
    expect(events[0]?.timestamp).toBe("2025-10-25T18:00:00Z");
    expect(events[9]?.timestamp).toBe("2025-10-25T18:00:09Z");
  });

  it("keeps a timestamp the producer gives, and resumes from startAt", () => {
    const seq = new EventSequencer(REQUEST_ID, { startAt: 41 });
    const event = seq.next({ type: "log", step: 2, stream: "stdout", text: "x", timestamp: T });
    expect(event).toMatchObject({ seq: 41, timestamp: T });
    expect(seq.nextSeq).toBe(42);
  });

  it("restamps an event of its own job and refuses another job's", () => {
    const seq = new EventSequencer(REQUEST_ID, { startAt: 5 });
    const original = sampleJob()[3]!;
    expect(seq.restamp(original)).toEqual({ ...original, seq: 5 });
    expect(() => seq.restamp(sampleJob(OTHER_ID)[0]!)).toThrow(JobEventMismatchError);
  });
});

describe("EventReorderer", () => {
  it("passes events through that arrive in order", () => {
    const r = new EventReorderer();
    const delivered = sampleJob().flatMap((e) => r.push(e).events);
    expect(delivered.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.finished).toBe(true);
    expect(r.buffered).toBe(0);
  });

  it("holds events that arrive early and releases them when the missing one comes", () => {
    const [e0, e1, e2, e3] = sampleJob();
    const r = new EventReorderer();
    expect(r.push(e0!).events.map((e) => e.seq)).toEqual([0]);
    expect(r.push(e2!).events).toEqual([]);
    expect(r.push(e3!).events).toEqual([]);
    expect(r.missing()).toEqual([{ from: 1, to: 1 }]);
    expect(r.buffered).toBe(2);
    expect(r.push(e1!).events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(r.missing()).toEqual([]);
    expect(r.expectedSeq).toBe(4);
  });

  it("drops duplicates, delivered or still buffered, and reports them", () => {
    const [e0, e1, e2] = sampleJob();
    const r = new EventReorderer();
    r.push(e0!);
    expect(r.push(e0!)).toEqual({ events: [], duplicates: [0], skipped: [] });
    r.push(e2!);
    expect(r.push(e2!)).toEqual({ events: [], duplicates: [2], skipped: [] });
    expect(r.push(e1!).events.map((e) => e.seq)).toEqual([1, 2]);
  });

  it("reports the gaps it gives up on with skipMissing", () => {
    const events = sampleJob();
    const r = new EventReorderer();
    for (const i of [0, 1, 4, 5, 8, 9]) r.push(events[i]!);
    expect(r.missing()).toEqual([
      { from: 2, to: 3 },
      { from: 6, to: 7 },
    ]);
    expect(r.finished).toBe(false);
    const out = r.skipMissing();
    expect(out.events.map((e) => e.seq)).toEqual([4, 5, 8, 9]);
    expect(out.skipped).toEqual([
      { from: 2, to: 3 },
      { from: 6, to: 7 },
    ]);
    expect(r.finished).toBe(true);
    // A late arrival of a skipped event is a duplicate now.
    expect(r.push(events[2]!).duplicates).toEqual([2]);
  });

  it("skips a gap by itself once too many events wait behind it", () => {
    const events = sampleJob();
    const r = new EventReorderer({ maxBuffered: 3 });
    r.push(events[0]!);
    const outs = [5, 6, 7, 8].map((i) => r.push(events[i]!));
    expect(outs.slice(0, 3).every((o) => o.events.length === 0)).toBe(true);
    expect(outs[3]?.skipped).toEqual([{ from: 1, to: 4 }]);
    expect(outs[3]?.events.map((e) => e.seq)).toEqual([5, 6, 7, 8]);
  });

  it("restores the order of a shuffled stream with redeliveries, for many shuffles", () => {
    const events = sampleJob();
    for (let seed = 1; seed <= 200; seed += 1) {
      const arrivals = shuffled([...events, ...events.filter((_, i) => i % 3 === 0)], seed);
      const r = new EventReorderer();
      const delivered: number[] = [];
      let duplicates = 0;
      for (const event of arrivals) {
        const out = r.push(event);
        delivered.push(...out.events.map((e) => e.seq));
        duplicates += out.duplicates.length;
        expect(out.skipped).toEqual([]);
      }
      expect(delivered).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(duplicates).toBe(4);
      expect(r.finished).toBe(true);
    }
  });

  it("starts from firstSeq when resuming", () => {
    const events = sampleJob();
    const r = new EventReorderer({ firstSeq: 8 });
    expect(r.push(events[7]!).duplicates).toEqual([7]);
    expect(r.push(events[9]!).events).toEqual([]);
    expect(r.push(events[8]!).events.map((e) => e.seq)).toEqual([8, 9]);
  });

  it("refuses events of another job", () => {
    const r = new EventReorderer();
    r.push(sampleJob()[0]!);
    expect(() => r.push(sampleJob(OTHER_ID)[1]!)).toThrow(JobEventMismatchError);
  });
});
