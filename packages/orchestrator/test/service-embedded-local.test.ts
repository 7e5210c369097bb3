import { join } from "node:path";
import { newJobRequest } from "@solstice/common";
import { eventually, tempDir } from "@solstice/test-support";
import { LocalHypervisor } from "@solstice/vm-engine/local";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningOrchestrator, startOrchestrator } from "../src/service/orchestrator-service.ts";
import { LOCAL_LABEL, writeImageMap } from "./local-service.ts";
import { EventCollector, testConfig } from "./orchestrator-support.ts";

// The embedded mode as `startOrchestrator` wires it (in-process queue, PGlite under the state
// directory, recovery, cancel listener, intake, runner), with the VM engine on the `local`
// hypervisor handed in as code: the configuration has no way to name it.

const owner = { kind: "cidev" as const, instance: "embedded-local-test" };
let dir: Awaited<ReturnType<typeof tempDir>>;
let orchestrator: RunningOrchestrator | undefined;
let events: EventCollector;

// PGlite takes seconds to start and migrate, more on a busy machine.
beforeAll(async () => {
  dir = await tempDir("orch-embedded-local");
  const stateDir = join(dir.path, "state");
  const imageMap = await writeImageMap(join(dir.path, "images"));
  const config = testConfig({
    imageMapPath: imageMap.file,
    stateDir,
    hostId: "embedded-local",
    capacityMap: `${LOCAL_LABEL}=2`,
  });
  orchestrator = await startOrchestrator(config, {
    logger: pino({ level: "silent" }),
    imageMap,
    http: false,
    engine: { hypervisor: new LocalHypervisor({ stateDir: join(dir.path, "local-vms") }), killGraceMs: 500 },
  });
  events = await EventCollector.subscribe(orchestrator.queue, owner);
}, 120_000);

afterAll(async () => {
  await events?.close();
  await orchestrator?.stop({ drainTimeoutMs: 0 });
  await dir?.remove();
}, 60_000);

describe("startOrchestrator with an injected hypervisor", () => {
  test("runs a published job on it and records it", async () => {
    const orch = orchestrator!;
    expect(orch.config.queue.kind).toBe("in-process");
    expect(orch.config.database.kind).toBe("pglite");
    const request = newJobRequest({
      source: "manual",
      repo_url: "file:///nonexistent",
      commit_sha: "0123456789abcdef0123456789abcdef01234567",
      workspace_checkout: false,
      owner,
      steps: [{ name: "Sum", run: "echo $((20 + 22))" }],
    });
    await orch.queue.publishJob(request);
    const ordered = await events.finished(request.request_id, 30_000);
    expect(ordered.map((e) => e.seq)).toEqual(ordered.map((_, i) => i));
    expect(ordered[0]).toMatchObject({ type: "job_started", host: "embedded-local", label: LOCAL_LABEL });
    expect(ordered.at(-1)).toMatchObject({ type: "job_finished", conclusion: "success" });
    expect(ordered.some((e) => e.type === "log" && e.step === 0 && e.text === "42")).toBe(true);
    // The row is finished after the owner got job_finished.
    await eventually(
      "the job row finished",
      async () => (await orch.store.getJob(request.request_id))?.state === "finished",
      10_000,
    );
    const job = await orch.store.getJob(request.request_id);
    expect(job).toMatchObject({ conclusion: "success", label: LOCAL_LABEL, hostId: "embedded-local" });
    expect((await orch.store.vmsForJob(request.request_id)).map((vm) => vm.state)).toEqual(["destroyed"]);
  });
});
