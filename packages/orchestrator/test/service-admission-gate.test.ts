import { describe, expect, test } from "vitest";
import { parseCapacityMap } from "../src/scheduling/capacity-map.ts";
import { CapacityScheduler, type Schedulable } from "../src/scheduling/capacity-scheduler.ts";
import { type Admission, AdmissionGate } from "../src/service/admission-gate.ts";

// The admission gate against the real scheduler: what the intake may accept at a given moment.

function setup(global: number, capacityMap: string, buffer = 1) {
  const scheduler = new CapacityScheduler<Schedulable>({ global, perLabel: parseCapacityMap(capacityMap) });
  const gate = new AdmissionGate(scheduler, { buffer });
  const accept = async (label: string) => {
    const admission = await gate.admit(label);
    scheduler.enqueue({ label });
    // The service pumps the scheduler on enqueue; do the same.
    while (scheduler.next() !== undefined);
    admission.release();
  };
  return { scheduler, gate, accept };
}

/** Resolves to the admission, or "waiting" if it is not given at once. */
async function now(promise: Promise<Admission>): Promise<Admission | "waiting"> {
  return Promise.race([promise, new Promise<"waiting">((r) => setImmediate(() => r("waiting")))]);
}

describe("AdmissionGate", () => {
  test("takes what can start at once plus `buffer` waiting jobs, then makes deliveries wait", async () => {
    const { scheduler, gate, accept } = setup(2, "fast=2");
    await accept("fast");
    await accept("fast");
    expect(scheduler.running).toBe(2);
    await accept("fast"); // the buffer
    expect(scheduler.queued).toBe(1);
    const fourth = gate.admit("fast");
    expect(await now(fourth)).toBe("waiting");
    expect(gate.waiting).toBe(1);

    // A job ends: the waiting one starts, the fourth may come in.
    scheduler.release("fast");
    expect(scheduler.next()).toEqual({ label: "fast" });
    gate.changed();
    const admission = await now(fourth);
    expect(admission).not.toBe("waiting");
    expect(gate.waiting).toBe(0);
  });

  test("a job for a free label passes one waiting for a busy label", async () => {
    const { scheduler, gate, accept } = setup(3, "omnios=1,ubuntu=2", 1);
    await accept("omnios");
    await accept("omnios"); // waits in the scheduler (the buffer)
    const third = gate.admit("omnios");
    expect(await now(third)).toBe("waiting");
    // ubuntu has room and so does the host: it is taken at once, ahead of the waiting omnios.
    const ubuntu = await now(gate.admit("ubuntu"));
    expect(ubuntu).not.toBe("waiting");
    (ubuntu as Admission).release();
    expect(scheduler.inUse().labels["omnios"]).toMatchObject({ inUse: 1, queued: 1 });
    expect(await now(third)).toBe("waiting");
  });

  test("a full host takes nothing that cannot start but the buffer", async () => {
    const { gate, accept } = setup(1, "a=1,b=1", 0);
    await accept("a");
    expect(await now(gate.admit("b"))).toBe("waiting");
  });

  test("admissions not yet enqueued count: two deliveries cannot both take the last slot", async () => {
    const { gate } = setup(1, "fast=1", 0);
    const first = await now(gate.admit("fast"));
    expect(first).not.toBe("waiting");
    const second = gate.admit("fast");
    expect(await now(second)).toBe("waiting");
    // The first was not accepted after all (e.g. a duplicate): its place goes to the second.
    (first as Admission).release();
    expect(await now(second)).not.toBe("waiting");
  });

  test("close rejects waiting and later admissions", async () => {
    const { gate, accept } = setup(1, "fast=1", 0);
    await accept("fast");
    const waiting = gate.admit("fast");
    gate.close(new Error("stopping"));
    await expect(waiting).rejects.toThrow("stopping");
    await expect(gate.admit("other")).rejects.toThrow("stopping");
  });
});
