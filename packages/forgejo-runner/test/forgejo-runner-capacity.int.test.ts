import { eventually } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForgejoRig, LABEL } from "./forgejo-support.ts";

// Capacity without a VM: no orchestrator consumes the jobs, so a task the runner takes stays
// running. With capacity 1 the runner takes one task, publishes its job, and asks Forgejo for
// nothing more while it runs; the second task waits in Forgejo.

let rig: ForgejoRig;
beforeAll(async () => {
  rig = await ForgejoRig.start("capacity", { withOrchestrator: false });
  await rig.register();
});
afterAll(async () => {
  await rig?.stop();
});

describe("solstice-forgejo-runner daemon --capacity 1", () => {
  it("runs at most one task at once and stops fetching while full", async () => {
    const workflow = `on: push\njobs:\n  j:\n    runs-on: ${LABEL}\n    steps:\n      - run: echo hi\n`;
    const first = rig.server.addTask({ workflow });
    const second = rig.server.addTask({ workflow });
    const daemon = await rig.startDaemon();
    await eventually("the first task taken", () => rig.server.task(first.id).status === "running", 10_000);
    await eventually("its state reported", () => rig.server.task(first.id).updateCount > 0, 10_000);
    const fetchesWhenFull = rig.server.calls.filter((c) => c.procedure === "FetchTask").length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(rig.server.calls.filter((c) => c.procedure === "FetchTask").length).toBe(fetchesWhenFull);
    expect(rig.server.task(second.id).status).toBe("waiting");
    expect(daemon.tasks.size).toBe(1);
    // The state keeps going out as a heartbeat while the job waits for an orchestrator.
    const updates = rig.server.task(first.id).updateCount;
    await eventually("another heartbeat", () => rig.server.task(first.id).updateCount > updates, 5_000);
  });
});
