import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ImageListSchema,
  newJobRequest,
  SPAN_ATTRIBUTES,
  startTracing,
  type Tracing,
} from "@solstice/common";
import {
  childrenOf,
  drawTree,
  eventually,
  GitServer,
  OtlpReceiver,
  REPO_ROOT,
  type ReceivedSpan,
  runCli,
  tempDir,
  writeFastGuestImageMap,
} from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningOrchestrator, startOrchestrator } from "../src/service/orchestrator-service.ts";
import {
  EventCollector,
  fileLogger,
  killLeftoverQemu,
  leftovers,
  testConfig,
} from "./orchestrator-support.ts";

// Warm starts through the service (issue 14), embedded mode and the fast guest: what a previous
// run left is removed at start, WARM_PREWARM builds the template, a job is restored from it,
// /v1/images and /metrics show it, stop removes it; a restarted service rebuilds on request
// (`POST /v1/images/:label/warm`, what `ciadm images warm` calls). The warm job's trace, received
// by an in-process OTLP receiver, shows the restore as its own span under the job.

const CIADM_MAIN = join(REPO_ROOT, "packages/ciadm/src/main.ts");
const owner = { kind: "cidev" as const, instance: "warm-test" };
let dir: Awaited<ReturnType<typeof tempDir>>;
let git: GitServer;
let stateDir: string;
let imageMapPath: string;
let orchestrator: RunningOrchestrator | undefined;
let otlp: OtlpReceiver;
let tracing: Tracing | undefined;

beforeAll(async () => {
  otlp = await OtlpReceiver.start();
  tracing = startTracing({
    serviceName: "solstice-orchestrator",
    env: otlp.exporterEnv(100),
  });
  dir = await tempDir("orch-warm");
  stateDir = join(dir.path, "state");
  git = await GitServer.start();
  imageMapPath = (await writeFastGuestImageMap(dir.path)).path;
});

afterAll(async () => {
  await tracing?.shutdown();
  await otlp?.close();
  await orchestrator?.stop({ drainTimeoutMs: 0 });
  await git?.stop();
  const killed = stateDir === undefined ? [] : await killLeftoverQemu(stateDir);
  await dir?.remove();
  expect(killed).toEqual([]);
});

async function start(warmPrewarm?: string): Promise<RunningOrchestrator> {
  const config = testConfig({ imageMapPath, stateDir, hostId: "warm-test", warmStarts: true, warmPrewarm });
  orchestrator = await startOrchestrator(config, {
    logger: fileLogger(join(dir.path, "service.log")),
    engine: { sshTimeoutMs: 240_000 },
  });
  return orchestrator;
}

async function images(orch: RunningOrchestrator) {
  const answer = await fetch(`${orch.httpUrl}/v1/images`);
  expect(answer.status).toBe(200);
  return ImageListSchema.parse(await answer.json()).images;
}

/** No private key block in any file of the state directory but the guests' own disks and memory. */
async function expectNoKeyBlocks(): Promise<void> {
  for (const entry of await readdir(stateDir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || /(^state|\.qcow2)$/.test(entry.name)) continue;
    const content = await readFile(join(entry.parentPath, entry.name)).catch(() => Buffer.alloc(0));
    expect(content.includes("PRIVATE KEY-----"), join(entry.parentPath, entry.name)).toBe(false);
  }
}

describe("warm starts in the orchestrator", () => {
  test("pre-warm, a warm job, /v1/images and /metrics, nothing left at stop; rebuilt after a restart", async () => {
    // What a previous process left (its key is gone): removed at start.
    const leftover = join(stateDir, "templates", "0123456789abcdef-aaaaaa");
    await mkdir(leftover, { recursive: true });
    await writeFile(join(leftover, "state"), "old guest memory");

    let orch = await start("fast");
    expect(await readdir(join(stateDir, "templates"))).not.toContain("0123456789abcdef-aaaaaa");
    await eventually(
      "the pre-warmed template is ready",
      async () => (await images(orch))[0]?.templates[0]?.state === "ready",
      300_000,
      1000,
    );
    const ready = (await images(orch))[0]!;
    expect(ready).toMatchObject({ label: "solstice-fast-guest", aliases: ["fast"], warm_start: true });
    expect(ready.templates[0]?.state_bytes).toBeGreaterThan(1024 * 1024);

    const events = await EventCollector.subscribe(orch.queue, owner);
    const repo = await git.createRepo("warm", { "hello.txt": "hello warm\n" });
    const request = newJobRequest({
      source: "manual",
      repo_url: repo.guestUrl,
      commit_sha: repo.sha,
      runs_on: "fast",
      owner,
      steps: [{ name: "Read", run: "cat hello.txt; cat /etc/solstice/job.yaml" }],
    });
    await orch.queue.publishJob(request);
    const ordered = await events.finished(request.request_id);
    await events.close();
    const text = ordered.flatMap((e) => (e.type === "log" ? [e.text] : []));
    expect(ordered.at(-1)).toMatchObject({ type: "job_finished", conclusion: "success" });
    expect(text.some((t) => t.includes("restored from warm template"))).toBe(true);
    expect(text.some((t) => t.includes(`request_id: ${request.request_id}`))).toBe(true);
    expect((await images(orch))[0]?.templates[0]?.restores).toBe(1);
    // Its trace: the restore is a span of its own kind under the job, where a cold boot would be.
    await tracing?.shutdown();
    tracing = undefined;
    const job = otlp.spans.find(
      (s) => s.name === "orchestrator job" && s.attributes["solstice.request_id"] === request.request_id,
    );
    if (job === undefined) throw new Error(`no job span:\n${drawTree(otlp.spans)}`);
    const trace = otlp.trace(job.traceId);
    const under = (span: ReceivedSpan): ReceivedSpan[] =>
      childrenOf(trace, span).flatMap((child) => [child, ...under(child)]);
    const names = under(job).map((s) => s.name);
    expect(names, drawTree(trace)).toContain("warm restore");
    expect(names, drawTree(trace)).not.toContain("vm prepare"); // a cold boot's
    const restore = under(job).find((s) => s.name === "warm restore");
    expect(restore?.attributes[SPAN_ATTRIBUTES.warm]).toBe(true);
    expect(
      names.filter((n) => n === "step"),
      drawTree(trace),
    ).toHaveLength(1);

    const metrics = await (await fetch(`${orch.httpUrl}/metrics`)).text();
    expect(metrics).toContain('solstice_vm_starts_total{label="solstice-fast-guest",kind="warm"} 1');
    expect(metrics).toContain(
      'solstice_warm_template_builds_total{label="solstice-fast-guest",outcome="ok"} 1',
    );
    expect(metrics).toMatch(/solstice_vm_restore_duration_seconds_count\{label="solstice-fast-guest"\} 1/);
    await expectNoKeyBlocks();

    await orch.stop({ drainTimeoutMs: 0 });
    orchestrator = undefined;
    expect(await readdir(join(stateDir, "templates"))).toEqual([]);
    expect(await leftovers(stateDir)).toEqual({ qemu: [], workDirs: [] });

    // Restarted without pre-warm: no template until asked for one.
    orch = await start();
    expect((await images(orch))[0]?.templates).toEqual([]);
    // `ciadm images warm <label>` (an alias here) waits for the build and prints the template.
    const warmed = await runCli(
      "ciadm",
      CIADM_MAIN,
      ["images", "warm", "fast", "--orch-url", orch.httpUrl!],
      {
        timeoutMs: 600_000,
      },
    );
    expect(warmed.code, warmed.stderr).toBe(0);
    expect(warmed.stdout).toMatch(/^solstice-fast-guest template [0-9a-f]{16}: ready, built in/);
    expect((await images(orch))[0]?.templates[0]?.state).toBe("ready");
    // `ciadm images list` joins the local map with the orchestrator's template states.
    const listed = await runCli("ciadm", CIADM_MAIN, [
      "images",
      "list",
      "--config",
      imageMapPath,
      "--orch-url",
      orch.httpUrl!,
    ]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^solstice-fast-guest.*ready \(0 restores\)/m);
    expect((await fetch(`${orch.httpUrl}/v1/images/nope/warm`, { method: "POST" })).status).toBe(404);
    await expectNoKeyBlocks();
    await orch.stop({ drainTimeoutMs: 0 });
    orchestrator = undefined;
    expect(await readdir(join(stateDir, "templates"))).toEqual([]);
    expect(await leftovers(stateDir)).toEqual({ qemu: [], workDirs: [] });
  });
});
