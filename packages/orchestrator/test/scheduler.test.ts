import { describe, expect, test } from "vitest";
import { CapacityMapError } from "../src/errors.ts";
import { formatCapacityMap, parseCapacityMap } from "../src/scheduling/capacity-map.ts";
import { type CapacityLimits, CapacityScheduler } from "../src/scheduling/capacity-scheduler.ts";

interface Job {
  readonly id: string;
  readonly label: string;
}

describe("parseCapacityMap", () => {
  test.each([
    [undefined, {}],
    ["", {}],
    ["   ", {}],
    ["illumos-latest=2,ubuntu-22.04=4", { "illumos-latest": 2, "ubuntu-22.04": 4 }],
    [" a = 1 , b=3 ", { a: 1, b: 3 }],
    ["a=1,,b=2,", { a: 1, b: 2 }],
    ["openindiana-hipster=007", { "openindiana-hipster": 7 }],
  ])("%j parses to %j", (value, expected) => {
    expect(Object.fromEntries(parseCapacityMap(value))).toEqual(expected);
  });

  test.each([
    ["ubuntu", 1, "ubuntu", 'expected "label=n"'],
    ["a=1,=2", 2, "=2", "the label is empty"],
    ["a=1,b=0", 2, "b=0", 'capacity must be a positive integer, got "0"'],
    ["a=-1", 1, "a=-1", 'capacity must be a positive integer, got "-1"'],
    ["a=two", 1, "a=two", 'capacity must be a positive integer, got "two"'],
    ["a=1.5", 1, "a=1.5", 'capacity must be a positive integer, got "1.5"'],
    ["a=", 1, "a=", 'capacity must be a positive integer, got ""'],
    ["a=1,b=2,a=3", 3, "a=3", 'label "a" is already given by entry 1'],
    ["a=99999999999999999999", 1, "a=99999999999999999999", "capacity 99999999999999999999 is too large"],
  ])("%j fails at entry %i (%s): %s", (value, position, entry, reason) => {
    let error: unknown;
    try {
      parseCapacityMap(value);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CapacityMapError);
    expect(error).toMatchObject({ code: "ORCH_CAPACITY_MAP_INVALID", position, entry, reason, value });
    expect((error as CapacityMapError).message).toBe(`CAPACITY_MAP entry ${position} "${entry}": ${reason}`);
    expect((error as CapacityMapError).hint).toMatch(/label=n/);
  });

  test("formats back, sorted", () => {
    expect(formatCapacityMap(parseCapacityMap("b=2,a=1"))).toBe("a=1,b=2");
  });
});

// A scenario is a list of operations and what each must give:
//   ["enqueue", id, label]  ["next", id | null]  ["release", label]  ["startAll", [ids]]  ["cancel", [ids removed]]
type Op =
  | readonly ["enqueue", string, string]
  | readonly ["next", string | null]
  | readonly ["release", string]
  | readonly ["startAll", readonly string[]]
  | readonly ["cancel", readonly string[]];

interface Scenario {
  readonly name: string;
  readonly limits: CapacityLimits;
  readonly ops: readonly Op[];
}

const map = (value: string) => parseCapacityMap(value);

const scenarios: readonly Scenario[] = [
  {
    name: "an empty scheduler has nothing to start",
    limits: { global: 2, perLabel: map("") },
    ops: [["next", null]],
  },
  {
    name: "unknown labels default to 1 at a time (the original's choice)",
    limits: { global: 4, perLabel: map("") },
    ops: [
      ["enqueue", "a1", "a"],
      ["enqueue", "a2", "a"],
      ["enqueue", "b1", "b"],
      ["startAll", ["a1", "b1"]],
      ["release", "a"],
      ["startAll", ["a2"]],
    ],
  },
  {
    name: "the default for unknown labels is configurable",
    limits: { global: 4, perLabel: map(""), defaultPerLabel: 3 },
    ops: [
      ["enqueue", "a1", "a"],
      ["enqueue", "a2", "a"],
      ["enqueue", "a3", "a"],
      ["enqueue", "a4", "a"],
      ["startAll", ["a1", "a2", "a3"]],
    ],
  },
  {
    name: "the global limit holds over all labels",
    limits: { global: 2, perLabel: map("a=5,b=5") },
    ops: [
      ["enqueue", "a1", "a"],
      ["enqueue", "b1", "b"],
      ["enqueue", "a2", "a"],
      ["startAll", ["a1", "b1"]],
      ["release", "b"],
      ["startAll", ["a2"]],
    ],
  },
  {
    name: "FIFO within a label",
    limits: { global: 3, perLabel: map("a=1") },
    ops: [
      ["enqueue", "a1", "a"],
      ["enqueue", "a2", "a"],
      ["enqueue", "a3", "a"],
      ["next", "a1"],
      ["next", null],
      ["release", "a"],
      ["next", "a2"],
      ["release", "a"],
      ["next", "a3"],
    ],
  },
  {
    name: "a job waiting for a busy label does not hold back one for a free label",
    limits: { global: 3, perLabel: map("omnios=1,ubuntu=2") },
    ops: [
      ["enqueue", "o1", "omnios"],
      ["enqueue", "o2", "omnios"],
      ["enqueue", "o3", "omnios"],
      ["enqueue", "u1", "ubuntu"],
      ["startAll", ["o1", "u1"]],
      ["enqueue", "u2", "ubuntu"],
      ["startAll", ["u2"]],
    ],
  },
  {
    name: "among startable labels the job enqueued first starts first",
    limits: { global: 1, perLabel: map("a=1,b=1") },
    ops: [
      ["enqueue", "b1", "b"],
      ["enqueue", "a1", "a"],
      ["enqueue", "b2", "b"],
      ["next", "b1"],
      ["release", "b"],
      ["next", "a1"],
      ["release", "a"],
      ["next", "b2"],
    ],
  },
  {
    name: "released capacity goes to the oldest job that fits, not to the released label",
    limits: { global: 2, perLabel: map("a=2,b=2") },
    ops: [
      ["enqueue", "a1", "a"],
      ["enqueue", "a2", "a"],
      ["startAll", ["a1", "a2"]],
      ["enqueue", "b1", "b"],
      ["enqueue", "a3", "a"],
      ["release", "a"],
      ["startAll", ["b1"]],
    ],
  },
  {
    name: "a job cancelled while queued is removed; the others keep their order",
    limits: { global: 1, perLabel: map("") },
    ops: [
      ["enqueue", "a1", "a"],
      ["enqueue", "a2", "a"],
      ["enqueue", "a3", "a"],
      ["cancel", ["a2"]],
      ["next", "a1"],
      ["release", "a"],
      ["next", "a3"],
    ],
  },
  {
    name: "6 jobs, capacity 2: two at a time, all six in order",
    limits: { global: 2, perLabel: map("fast=2") },
    ops: [
      ["enqueue", "j1", "fast"],
      ["enqueue", "j2", "fast"],
      ["enqueue", "j3", "fast"],
      ["enqueue", "j4", "fast"],
      ["enqueue", "j5", "fast"],
      ["enqueue", "j6", "fast"],
      ["startAll", ["j1", "j2"]],
      ["release", "fast"],
      ["startAll", ["j3"]],
      ["release", "fast"],
      ["release", "fast"],
      ["startAll", ["j4", "j5"]],
      ["release", "fast"],
      ["startAll", ["j6"]],
      ["release", "fast"],
      ["release", "fast"],
      ["next", null],
    ],
  },
];

describe("CapacityScheduler scenarios", () => {
  test.each(scenarios)("$name", ({ limits, ops }) => {
    const s = new CapacityScheduler<Job>(limits);
    const jobs = new Map<string, Job>();
    const startAll = () => {
      const started: string[] = [];
      for (let j = s.next(); j !== undefined; j = s.next()) started.push(j.id);
      return started;
    };
    for (const [i, op] of ops.entries()) {
      const where = `op ${i} ${JSON.stringify(op)}`;
      switch (op[0]) {
        case "enqueue": {
          const job = { id: op[1], label: op[2] };
          jobs.set(job.id, job);
          s.enqueue(job);
          break;
        }
        case "next":
          expect(s.next()?.id ?? null, where).toBe(op[1]);
          break;
        case "release":
          s.release(op[1]);
          break;
        case "startAll":
          expect(startAll(), where).toEqual(op[1]);
          break;
        case "cancel": {
          const ids = new Set(op[1]);
          expect(
            s.remove((j) => ids.has(j.id)).map((j) => j.id),
            where,
          ).toEqual(op[1]);
          break;
        }
      }
    }
  });
});

describe("CapacityScheduler", () => {
  test("inUse() reports global and per-label use, limits and queue lengths", () => {
    const s = new CapacityScheduler<Job>({ global: 3, perLabel: map("ubuntu=2,omnios=1") });
    s.enqueue({ id: "u1", label: "ubuntu" });
    s.enqueue({ id: "o1", label: "omnios" });
    s.enqueue({ id: "o2", label: "omnios" });
    s.enqueue({ id: "x1", label: "freebsd" });
    s.next();
    s.next();
    expect(s.inUse()).toEqual({
      inUse: 2,
      limit: 3,
      queued: 2,
      labels: {
        freebsd: { inUse: 0, limit: 1, queued: 1 },
        omnios: { inUse: 1, limit: 1, queued: 1 },
        ubuntu: { inUse: 1, limit: 2, queued: 0 },
      },
    });
    expect(s.running).toBe(2);
    expect(s.queued).toBe(2);
  });

  test("drain() empties the queue in enqueue order and keeps running jobs counted", () => {
    const s = new CapacityScheduler<Job>({ global: 1, perLabel: map("") });
    for (const [id, label] of [
      ["a1", "a"],
      ["b1", "b"],
      ["a2", "a"],
      ["c1", "c"],
    ] as const)
      s.enqueue({ id, label });
    expect(s.next()?.id).toBe("a1");
    expect(s.drain().map((j) => j.id)).toEqual(["b1", "a2", "c1"]);
    expect(s.queued).toBe(0);
    expect(s.running).toBe(1);
    expect(s.next()).toBeUndefined();
  });

  test("release of a label with nothing running is a bug and throws", () => {
    const s = new CapacityScheduler<Job>({ global: 1, perLabel: map("") });
    expect(() => s.release("a")).toThrow(/no job of this label is running/);
  });

  test.each([
    [{ global: 0, perLabel: map("") }, /global limit must be a positive integer, got 0/],
    [{ global: 1.5, perLabel: map("") }, /global limit/],
    [{ global: 1, perLabel: new Map([["a", 0]]) }, /limit of label "a" must be a positive integer/],
    [{ global: 1, perLabel: map(""), defaultPerLabel: 0 }, /default label limit/],
  ])("refuses limits %j", (limits, message) => {
    expect(() => new CapacityScheduler<Job>(limits)).toThrow(message);
  });

  test("random workloads: limits always hold, FIFO per label, and no free capacity is left idle", () => {
    // A small deterministic PRNG (mulberry32), so a failure reproduces.
    let seed = 20260301;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const labels = ["a", "b", "c", "d"];
    const limits: CapacityLimits = { global: 3, perLabel: map("a=2,b=1,c=3") }; // d: default 1
    for (let round = 0; round < 50; round++) {
      const s = new CapacityScheduler<Job>(limits);
      const running: Job[] = [];
      const enqueuedOrder = new Map<string, string[]>();
      const startedOrder = new Map<string, string[]>();
      let n = 0;
      for (let step = 0; step < 200; step++) {
        if (random() < 0.55) {
          const label = labels[Math.floor(random() * labels.length)]!;
          const job = { id: `j${n++}`, label };
          s.enqueue(job);
          enqueuedOrder.set(label, [...(enqueuedOrder.get(label) ?? []), job.id]);
        } else if (running.length > 0) {
          const [done] = running.splice(Math.floor(random() * running.length), 1);
          s.release(done!.label);
        }
        for (let j = s.next(); j !== undefined; j = s.next()) {
          running.push(j);
          startedOrder.set(j.label, [...(startedOrder.get(j.label) ?? []), j.id]);
        }
        // Limits hold.
        expect(running.length).toBeLessThanOrEqual(limits.global);
        for (const label of labels) {
          expect(running.filter((j) => j.label === label).length).toBeLessThanOrEqual(s.limitFor(label));
        }
        // No head-of-line blocking: when the host has room, no waiting label has room too.
        const snapshot = s.inUse();
        if (running.length < limits.global) {
          for (const [label, c] of Object.entries(snapshot.labels)) {
            if (c.queued > 0) expect(c.inUse, `label ${label} waits with free capacity`).toBe(c.limit);
          }
        }
        expect(snapshot.inUse).toBe(running.length);
      }
      // FIFO per label: started in the order enqueued.
      for (const [label, started] of startedOrder) {
        expect(started).toEqual(enqueuedOrder.get(label)?.slice(0, started.length));
      }
    }
  });
});
