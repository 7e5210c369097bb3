import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { JobEventSchema, newJobRequest } from "@solstice/common";
import { eventually, GitServer, tempDir, writeFastGuestImageMap } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningOrchestrator, startOrchestrator } from "../src/service/orchestrator-service.ts";
import {
  EventCollector,
  fileLogger,
  killLeftoverQemu,
  leftovers,
  testConfig,
} from "./orchestrator-support.ts";

// The embedded single-node mode (what `cidev run` uses): no AMQP_URL, no DATABASE_URL — the same
// service on the in-process queue and PGlite under the state directory, running a real job in
// the fast guest.

const owner = { kind: "cidev" as const, instance: "embedded-test" };
let dir: Awaited<ReturnType<typeof tempDir>>;
let git: GitServer;
let orchestrator: RunningOrchestrator | undefined;
let events: EventCollector;
let stateDir: string;

beforeAll(async () => {
  dir = await tempDir("orch-embedded");
  stateDir = join(dir.path, "state");
  git = await GitServer.start();
  const { path } = await writeFastGuestImageMap(dir.path);
  const config = testConfig({ imageMapPath: path, stateDir, hostId: "embedded-test" });
  expect(config.embedded).toBe(true);
  orchestrator = await startOrchestrator(config, {
    logger: fileLogger(join(dir.path, "service.log")),
    engine: { sshTimeoutMs: 240_000 },
  });
  events = await EventCollector.subscribe(orchestrator.queue, owner);
});

afterAll(async () => {
  await events?.close();
  await orchestrator?.stop({ drainTimeoutMs: 0 });
  await git?.stop();
  const killed = stateDir === undefined ? [] : await killLeftoverQemu(stateDir);
  await dir?.remove();
  expect(killed).toEqual([]);
});

describe("embedded mode (in-process queue + PGlite)", () => {
  test("a job published on the in-process queue runs in a VM; events in order, row finished, nothing left", async () => {
    const orch = orchestrator!;
    expect(orch.config.database).toEqual({ kind: "pglite", dataDir: join(stateDir, "db") });
    expect(orch.config.queue.kind).toBe("in-process");

    const repo = await git.createRepo("embedded", { "hello.txt": "hello from the repo\n" });
    const request = newJobRequest({
      source: "manual",
      repo_url: repo.guestUrl,
      commit_sha: repo.sha,
      runs_on: "fast",
      owner,
      steps: [
        { name: "Read", run: "cat hello.txt" },
        { name: "Stderr", run: "echo to-stderr >&2" },
        { name: "Sum", run: "echo $((20 + 22))" },
      ],
    });
    await orch.queue.publishJob(request);
    const ordered = await events.finished(request.request_id);

    for (const e of ordered) JobEventSchema.parse(e);
    expect(ordered.map((e) => e.seq)).toEqual(ordered.map((_, i) => i));
    expect(events.problems(request.request_id)).toEqual({ missing: [], duplicates: [] });
    expect(ordered[0]).toMatchObject({
      type: "job_started",
      host: "embedded-test",
      label: "solstice-fast-guest",
    });
    expect(ordered.at(-1)).toMatchObject({ type: "job_finished", conclusion: "success" });
    const out = (step: number) =>
      ordered.flatMap((e) => (e.type === "log" && e.step === step ? e.text.split("\n") : []));
    expect(out(0)).toContain("hello from the repo");
    expect(out(1)).toContain("to-stderr");
    expect(out(2)).toContain("42");

    await eventually(
      "the job row finished",
      async () => (await orch.store.getJob(request.request_id))?.state === "finished",
    );
    const job = await orch.store.getJob(request.request_id);
    expect(job).toMatchObject({
      state: "finished",
      conclusion: "success",
      label: "solstice-fast-guest",
      hostId: "embedded-test",
    });
    expect(job?.stepsStarted).toBe(true);
    const stored = await orch.store.getLogs(request.request_id);
    expect(stored.flatMap((l) => l.text.split("\n"))).toContain("42");
    const vms = await orch.store.vmsForJob(request.request_id);
    expect(vms.map((vm) => vm.state)).toEqual(["destroyed"]);
    expect(await leftovers(stateDir)).toEqual({ qemu: [], workDirs: [] });
    // PGlite keeps its files under the state directory.
    expect((await readFile(join(stateDir, "db", "PG_VERSION"), "utf8")).trim()).toMatch(/^\d+$/);
  });
});
