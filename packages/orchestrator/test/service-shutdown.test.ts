import { EventEmitter } from "node:events";
import { onStopSignals } from "@solstice/common";
import { describe, expect, test } from "vitest";
import { type ShutdownParts, shutdown } from "../src/service/shutdown.ts";

// The two-phase shutdown's order and decisions, over recording fakes of the service's parts.

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function parts(idleAfterMs: number | "never", closeFails: string[] = []) {
  const calls: string[] = [];
  const p: ShutdownParts = {
    stopIntake: async () => {
      calls.push("stop intake");
    },
    whenIdle: (timeoutMs) =>
      new Promise((resolve) => {
        if (idleAfterMs !== "never" && idleAfterMs <= timeoutMs) setTimeout(() => resolve(true), idleAfterMs);
        else setTimeout(() => resolve(false), timeoutMs);
      }),
    cancelAll: async (reason) => {
      calls.push(`cancel all: ${reason}`);
    },
    settled: async () => {
      calls.push("settled");
    },
    closers: ["cancel listener", "debug SSH VMs", "HTTP API", "queue", "database"].map((name) => ({
      name,
      close: async () => {
        calls.push(`close ${name}`);
        if (closeFails.includes(name)) throw new Error(`${name} failed`);
      },
    })),
    logger: silent,
  };
  return { calls, parts: p };
}

describe("shutdown", () => {
  test("jobs that end within the drain time are not cancelled", async () => {
    const { calls, parts: p } = parts(5);
    expect(await shutdown(p, { drainTimeoutMs: 1_000 })).toEqual({ drained: true, failures: [] });
    expect(calls).toEqual([
      "stop intake",
      "settled",
      "close cancel listener",
      "close debug SSH VMs",
      "close HTTP API",
      "close queue",
      "close database",
    ]);
  });

  test("at the drain timeout what still runs is cancelled, with the reason, before anything is closed", async () => {
    const { calls, parts: p } = parts("never");
    const report = await shutdown(p, { drainTimeoutMs: 20 });
    expect(report.drained).toBe(false);
    expect(calls.slice(0, 3)).toEqual([
      "stop intake",
      "cancel all: the orchestrator is shutting down (jobs may run 0 s after the stop signal)",
      "settled",
    ]);
  });

  test("a second signal ends the drain at once; a failing close does not stop the others", async () => {
    const { calls, parts: p } = parts("never", ["HTTP API"]);
    const report = await shutdown(p, { drainTimeoutMs: 60_000, skipDrain: Promise.resolve() });
    expect(report.drained).toBe(false);
    expect(report.failures.map((f) => f.name)).toEqual(["HTTP API"]);
    expect(calls.at(-1)).toBe("close database");
  });
});

describe("onStopSignals", () => {
  test("first signal stops, second hurries, third abandons; removable", () => {
    const target = new EventEmitter();
    const seen: string[] = [];
    const off = onStopSignals(
      {
        stop: (s) => seen.push(`stop ${s}`),
        hurry: (s) => seen.push(`hurry ${s}`),
        abandon: (s) => seen.push(`abandon ${s}`),
      },
      target,
    );
    target.emit("SIGTERM", "SIGTERM");
    target.emit("SIGINT", "SIGINT");
    target.emit("SIGTERM", "SIGTERM");
    expect(seen).toEqual(["stop SIGTERM", "hurry SIGINT", "abandon SIGTERM"]);
    off();
    expect(target.listenerCount("SIGTERM") + target.listenerCount("SIGINT")).toBe(0);
  });
});
