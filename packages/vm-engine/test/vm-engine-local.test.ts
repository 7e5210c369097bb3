import { access, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ImageEntry, type JobRequest, newJobRequest } from "@solstice/common";
import { EventLog } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VmImageMissingError } from "../src/errors.ts";
import { LocalHypervisor } from "../src/local/local-hypervisor.ts";
import type { VmHandle } from "../src/vm/vm-types.ts";
import { VmEngine } from "../src/vm-engine.ts";
import { createLocalRepo, expectWellFormed, localImage, writeFakeImage } from "./local-fixtures.ts";

// VmEngine.runJob on the `local` hypervisor: the engine's own part (events around the job, the
// VM's life from prepare to destroy, console forwarding, cancel, job timeout, keepVm, errors)
// without QEMU. The guest is a temporary directory; nothing of it may outlive the job.

let dir: string;
let stateDir: string;
let image: ImageEntry;
let hypervisor: LocalHypervisor;
let engine: VmEngine;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "solstice-engine-local-"));
  stateDir = join(dir, "vms");
  image = localImage(await writeFakeImage(join(dir, "images", "local.img")));
  hypervisor = new LocalHypervisor({ stateDir, bootLines: ["local-guest: booting", "local-guest: ready"] });
  engine = new VmEngine({ hypervisor, host: "unit-host", killGraceMs: 500 });
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function request(fields: Partial<JobRequest>): JobRequest {
  return newJobRequest({
    source: "manual",
    repo_url: "file:///nonexistent",
    commit_sha: "0123456789abcdef0123456789abcdef01234567",
    workspace_checkout: false,
    ...fields,
  });
}

/** Nothing of the VM outlives the job: no work directory, the key forgotten, no VM running. */
async function expectNothingLeft(vm: VmHandle | undefined): Promise<void> {
  expect(await readdir(stateDir).catch(() => [])).toEqual([]);
  expect(hypervisor.running()).toEqual([]);
  if (vm === undefined) return;
  expect(vm.state).toBe("destroyed");
  expect(vm.credentials.held).toBe(false);
}

describe("VmEngine.runJob on the local hypervisor", () => {
  it("runs the job from prepare to destroy: job_started first, the console until the shell is up, job_finished last", async () => {
    const repo = await createLocalRepo(join(dir, "repo"), { "hello.txt": "hello from the repo\n" });
    const log = new EventLog();
    const states: string[] = [];
    const result = await engine.runJob(
      request({
        repo_url: repo.url,
        commit_sha: repo.sha,
        workspace_checkout: true,
        steps: [
          { name: "Read", run: "cat hello.txt" },
          { id: "sum", name: "Sum", run: 'echo "sum=$((20 + 22))" >> "$GITHUB_OUTPUT"' },
          // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression
          { name: "Use", run: "echo ${{ steps.sum.outputs.sum }}", runtime_expressions: ["run"] },
        ],
      }),
      image,
      { sink: log.sink, vmName: "job-local-happy", onVm: (vm) => void states.push(vm.state) },
    );
    expectWellFormed(log.events);
    expect(result).toMatchObject({ conclusion: "success", reason: undefined, kept: false, error: undefined });
    expect(result.steps.map((s) => s.conclusion)).toEqual(["success", "success", "success"]);
    expect(result.bootToSshMs).toBeGreaterThanOrEqual(0);
    expect(states).toEqual(["prepared", "running", "stopped", "destroyed"]);
    expect(log.events[0]).toMatchObject({ type: "job_started", host: "unit-host", label: "local" });
    expect(log.of("job_finished")[0]).toMatchObject({ conclusion: "success" });
    expect(log.lines(0)).toEqual(["stdout: hello from the repo"]);
    expect(log.of("step_finished")[1]?.outputs).toEqual({ sum: "42" });
    expect(log.lines(2)).toEqual(["stdout: 42"]);

    const system = log.lines(null);
    expect(system[0]).toMatch(
      /^system: Preparing VM job-local-happy \(local: 1 vCPU, 256 MB RAM, 1 GB disk\)$/,
    );
    const booted = system.indexOf("system: local-guest: ready");
    const up = system.findIndex((line) => line.startsWith("system: SSH is up after"));
    expect(booted).toBeGreaterThan(0);
    expect(up).toBeGreaterThan(booted);
    expect(system).toContain(`system: solstice: HEAD is now at ${repo.sha}`);
    await expectNothingLeft(result.vm);
  });

  it("reports a failing job's first failing step, and destroys the VM", async () => {
    const log = new EventLog();
    const result = await engine.runJob(
      request({
        steps: [
          { name: "Fails", run: "exit 7" },
          { name: "Report", if: "always()", run: "echo reported" },
        ],
      }),
      image,
      { sink: log.sink },
    );
    expectWellFormed(log.events);
    expect(result).toMatchObject({
      conclusion: "failure",
      reason: 'step "Fails" exited with 7',
      kept: false,
    });
    expect(log.of("job_finished")[0]).toMatchObject({
      conclusion: "failure",
      reason: 'step "Fails" exited with 7',
    });
    expect(log.lines(1)).toEqual(["stdout: reported"]);
    await expectNothingLeft(result.vm);
  });

  it("cancelled before it starts: nothing runs, the job is cancelled with the reason, the VM is gone", async () => {
    const log = new EventLog();
    const result = await engine.runJob(request({ steps: [{ name: "Never", run: "echo never" }] }), image, {
      sink: log.sink,
      signal: AbortSignal.abort(new Error("cancelled by the user")),
    });
    expectWellFormed(log.events);
    expect(result).toMatchObject({ conclusion: "cancelled", reason: "cancelled by the user" });
    expect(log.of("step_started")).toEqual([]);
    expect(log.lines(null)).toContain("system: Job cancelled: cancelled by the user");
    expect(log.of("job_finished")[0]).toMatchObject({
      conclusion: "cancelled",
      reason: "cancelled by the user",
    });
    await expectNothingLeft(result.vm);
  });

  it("fails at the job's timeout: the running step is killed, the VM destroyed even when keepVm would keep it", async () => {
    const log = new EventLog();
    const asked: string[] = [];
    const result = await engine.runJob(
      request({ timeout_seconds: 1, steps: [{ name: "Long", run: "sleep 60" }, { run: "echo never" }] }),
      image,
      {
        sink: log.sink,
        keepVm: ({ conclusion }) => {
          asked.push(conclusion);
          return true;
        },
      },
    );
    expectWellFormed(log.events);
    expect(result).toMatchObject({
      conclusion: "failure",
      reason: "the job exceeded its timeout of 1 s",
      kept: false,
    });
    expect(log.of("step_finished").map((e) => e.conclusion)).toEqual(["cancelled"]);
    expect(log.lines(null)).toContain(
      "system: Job failed: the job exceeded its timeout of 1 s; its VM was destroyed",
    );
    expect(asked).toEqual([]);
    await expectNothingLeft(result.vm);
  });

  it("a host's limit shorter than the request's timeout applies, and says whose it is", async () => {
    const log = new EventLog();
    const result = await engine.runJob(
      request({ timeout_seconds: 600, steps: [{ name: "Long", run: "sleep 60" }] }),
      image,
      { sink: log.sink, timeoutSeconds: 1 },
    );
    expect(result).toMatchObject({
      conclusion: "failure",
      reason: "the job exceeded this host's time limit of 1 s per job",
    });
    expect(log.of("job_finished")).toMatchObject([{ conclusion: "failure" }]);
    await expectNothingLeft(result.vm);
  });

  it("keeps a failed job's VM when keepVm says so, and discards it later", async () => {
    const log = new EventLog();
    const asked: string[] = [];
    const result = await engine.runJob(request({ steps: [{ name: "Fails", run: "exit 1" }] }), image, {
      sink: log.sink,
      keepVm: ({ conclusion, log: write }) => {
        asked.push(conclusion);
        write("kept for debugging");
        return true;
      },
    });
    expectWellFormed(log.events);
    expect(asked).toEqual(["failure"]);
    expect(result).toMatchObject({ conclusion: "failure", kept: true });
    expect(result.vm?.state).toBe("running");
    expect(log.lines(null)).toContain("system: kept for debugging");
    await access(result.vm!.workDir);
    const gone = await engine.discard(result.vm!);
    await expectNothingLeft(gone);
  });

  it("fails clearly on a missing image and leaves nothing behind", async () => {
    const log = new EventLog();
    const missing = join(dir, "images", "no-such.img");
    const result = await engine.runJob(
      request({ steps: [] }),
      { ...image, localPath: missing },
      { sink: log.sink },
    );
    expectWellFormed(log.events);
    expect(result.conclusion).toBe("failure");
    expect(result.error).toBeInstanceOf(VmImageMissingError);
    expect(result.reason).toBe(`image local: disk image ${missing} is missing or unreadable`);
    expect(result.vm).toBeUndefined();
    await expectNothingLeft(undefined);
  });

  it("masks secrets and URL credentials in everything the result, keepVm and its log carry", async () => {
    const secret = "s3cr3t-value-4711";
    const token = "tok-9f2c1d7e5b3a";
    const log = new EventLog();
    const logged: string[] = [];
    const logger = {
      debug: (fields: Record<string, unknown>, message: string) => logged.push(linePrinted(fields, message)),
      info: (fields: Record<string, unknown>, message: string) => logged.push(linePrinted(fields, message)),
      warn: (fields: Record<string, unknown>, message: string) => logged.push(linePrinted(fields, message)),
      error: (fields: Record<string, unknown>, message: string) => logged.push(linePrinted(fields, message)),
    };
    const masking = new VmEngine({ hypervisor, host: "unit-host", killGraceMs: 500, logger });
    const reasons: (string | undefined)[] = [];
    const failing = await masking.runJob(
      request({ steps: [{ run: `echo ${secret} >/dev/null; exit 3` }], mask: [secret] }),
      image,
      {
        sink: log.sink,
        keepVm: ({ reason }) => {
          reasons.push(reason);
          return false;
        },
      },
    );
    expect(failing.reason).toBe('step "echo *** >/dev/null; exit 3" exited with 3');
    expect(reasons).toEqual([failing.reason]);

    const checkout = await masking.runJob(
      request({ repo_url: `http://oauth2:${token}@127.0.0.1:9/owner/repo.git`, workspace_checkout: true }),
      image,
      { sink: log.sink },
    );
    expect(checkout.reason).toMatch(/^checkout of http:\/\/\*\*\*@127\.0\.0\.1:9\/owner\/repo\.git at /);
    expect(checkout.error?.message).toMatch(/^checkout of http:\/\/\*\*\*@127\.0\.0\.1:9\//);
    expect(checkout.error).toMatchObject({
      code: "ORCH_WORKSPACE_CHECKOUT",
      repoUrl: "http://***@127.0.0.1:9/owner/repo.git",
    });

    const everything =
      JSON.stringify([log.events, failing.reason, checkout.reason, logged]) + String(checkout.error?.stack);
    expect(logged.join("\n")).toContain("job failed before its steps completed");
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(token);
  });
});

/** A log call as a line, errors with their message, stack and fields (as pino prints them). */
function linePrinted(fields: Record<string, unknown>, message: string): string {
  return `${message} ${JSON.stringify(fields, (_key, value: unknown) =>
    value instanceof Error ? { ...value, message: value.message, stack: value.stack } : value,
  )}`;
}
