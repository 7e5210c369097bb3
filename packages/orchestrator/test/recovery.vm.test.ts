import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newJobRequest } from "@solstice/common";
import { findQemuProcesses, probeVmProcess, readCommandLine } from "@solstice/vm-engine";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { JobRecord } from "../src/persistence/job-records.ts";
import { JobStore } from "../src/persistence/job-store.ts";
import { migrateToLatest } from "../src/persistence/migrate.ts";
import { recoverHost } from "../src/recovery/recover-host.ts";
import { RESTART_REASON } from "../src/recovery/recovery-plan.ts";
import { openTestDatabase, type TestDatabase } from "./persistence-backends.ts";

// Crash recovery against real QEMU processes (idle: `-machine none -S`, no guest) left behind
// under a VM directory, with the state in PGlite, as after a `kill -9` of the orchestrator.

const children: ChildProcess[] = [];

async function startIdleQemu(workDir: string): Promise<number> {
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  const child = spawn(
    "qemu-system-x86_64",
    ["-machine", "none", "-display", "none", "-nodefaults", "-S", "-pidfile", join(workDir, "qemu.pid")],
    { stdio: "ignore" },
  );
  children.push(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error("qemu-system-x86_64 did not start: is QEMU installed?");
  // Ready once its pidfile exists (QEMU writes it after parsing the command line).
  for (let i = 0; i < 500 && !existsSync(join(workDir, "qemu.pid")); i++)
    await new Promise((r) => setTimeout(r, 10));
  return pid;
}

async function deadPid(): Promise<number> {
  const child = spawn("true", { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}

describe("crash recovery with real QEMU processes", () => {
  let t: TestDatabase;
  let root: string;
  let store: JobStore;
  const host = "host-recovery";

  beforeAll(async () => {
    t = await openTestDatabase("pglite");
    await migrateToLatest(t.db);
    store = new JobStore(t.db);
    root = await mkdtemp(join(tmpdir(), "solstice-recovery-"));
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await rm(root, { recursive: true, force: true });
    await t?.close();
  });

  test("process probe tells our QEMU from another program and from a dead pid", async () => {
    const dir = join(root, "probe-vm");
    const pid = await startIdleQemu(dir);
    expect(await probeVmProcess(pid, dir)).toBe("ours");
    expect(await probeVmProcess(pid, join(root, "other-vm"))).toBe("foreign");
    expect(await probeVmProcess(process.pid, dir)).toBe("foreign");
    expect(await probeVmProcess(await deadPid(), dir)).toBe("gone");
    expect((await readCommandLine(pid))?.[0]).toBe("qemu-system-x86_64");
    expect(await findQemuProcesses(dir)).toEqual([{ pid }]);
    process.kill(pid, "SIGKILL");
  });

  test("kills left-over QEMUs, removes work dirs, fails or requeues every unfinished job", async () => {
    const vmRoot = join(root, "vms");
    const accept = async (
      steps: boolean,
      state: "accepted" | "running",
      secrets = false,
    ): Promise<JobRecord> => {
      const req = newJobRequest({
        source: "manual",
        repo_url: "https://example.org/r.git",
        commit_sha: "abc",
        runs_on: "fast",
        ...(secrets ? { env: { T: "secret-value" }, mask: ["secret-value"] } : {}),
      });
      await store.recordAccepted(req, { hostId: host, label: "fast" });
      if (state === "running") await store.markRunning(req.request_id);
      if (steps) await store.markStepsStarted(req.request_id);
      return (await store.getJob(req.request_id))!;
    };
    // A: steps running in a live QEMU. B: booting in a live QEMU. C: QEMU already dead.
    // D: accepted, never started. E: booting, but its request had secrets. F: another host's job.
    const a = await accept(true, "running");
    const b = await accept(false, "running");
    const c = await accept(false, "running");
    const d = await accept(false, "accepted");
    const e = await accept(false, "running", true);
    const other = newJobRequest({ source: "manual", repo_url: "x", commit_sha: "y" });
    await store.recordAccepted(other, { hostId: "another-host", label: "fast" });

    const pidA = await startIdleQemu(join(vmRoot, "vm-a"));
    const pidB = await startIdleQemu(join(vmRoot, "vm-b"));
    const stray = await startIdleQemu(join(vmRoot, "vm-stray")); // started, crashed before recordVm
    await store.recordVm({
      vmName: "vm-a",
      requestId: a.requestId,
      hostId: host,
      workDir: join(vmRoot, "vm-a"),
      pid: pidA,
      state: "running",
    });
    await store.recordVm({
      vmName: "vm-b",
      requestId: b.requestId,
      hostId: host,
      workDir: join(vmRoot, "vm-b"),
      pid: pidB,
      state: "running",
    });
    await mkdir(join(vmRoot, "vm-c"), { recursive: true });
    await writeFile(join(vmRoot, "vm-c", "overlay.qcow2"), "x");
    await store.recordVm({
      vmName: "vm-c",
      requestId: c.requestId,
      hostId: host,
      workDir: join(vmRoot, "vm-c"),
      pid: await deadPid(),
      state: "running",
    });
    // A recorded pid now used by another program (this test runner): must survive.
    await mkdir(join(vmRoot, "vm-e"), { recursive: true });
    await store.recordVm({
      vmName: "vm-e",
      requestId: e.requestId,
      hostId: host,
      workDir: join(vmRoot, "vm-e"),
      pid: process.pid,
      state: "running",
    });

    const reported: [string, string][] = [];
    const requeued: [string, number][] = [];
    const report = await recoverHost({
      store,
      hostId: host,
      vmRoot,
      reportFailed: async (job, reason) => {
        reported.push([job.requestId, reason]);
      },
      requeue: async (job) => {
        requeued.push([job.requestId, job.attempt]);
      },
    });

    expect(report.errors).toEqual([]);
    expect(report.plan.kill.map((k) => k.pid).sort()).toEqual([pidA, pidB, stray].sort());
    expect(report.plan.notes).toEqual([
      `VM vm-e: pid ${process.pid} now belongs to another program; not killed`,
    ]);
    for (const pid of [pidA, pidB, stray]) expect(await readCommandLine(pid)).toBeUndefined();
    expect(await findQemuProcesses(vmRoot)).toEqual([]);
    for (const dir of ["vm-a", "vm-b", "vm-c", "vm-e", "vm-stray"])
      expect(existsSync(join(vmRoot, dir))).toBe(false);
    expect(await store.vmsForHost(host)).toEqual([]);

    expect(reported.sort()).toEqual(
      [
        [a.requestId, RESTART_REASON],
        [e.requestId, RESTART_REASON],
      ].sort(),
    );
    expect(requeued.sort()).toEqual(
      [
        [b.requestId, 2],
        [c.requestId, 2],
        [d.requestId, 2],
      ].sort(),
    );
    expect(await store.getJob(a.requestId)).toMatchObject({
      state: "finished",
      conclusion: "failure",
      reason: RESTART_REASON,
    });
    // Nothing is left running; requeued jobs wait in `accepted`; the other host's job is untouched.
    expect((await store.listJobs({ hostId: host, state: "running" })).length).toBe(0);
    expect((await store.unfinishedForHost(host)).map((j) => j.requestId).sort()).toEqual(
      [b.requestId, c.requestId, d.requestId].sort(),
    );
    expect((await store.getJob(other.request_id))?.state).toBe("accepted");
  });

  test("a failed report leaves the job unfinished, for the next start to retry", async () => {
    const req = newJobRequest({ source: "manual", repo_url: "x", commit_sha: "y" });
    const h = "host-report-fails";
    await store.recordAccepted(req, { hostId: h, label: "fast" });
    await store.markRunning(req.request_id);
    await store.markStepsStarted(req.request_id);
    const report = await recoverHost({
      store,
      hostId: h,
      reportFailed: async () => {
        throw new Error("broker unreachable");
      },
      requeue: async () => {},
    });
    expect(report.errors.map((e) => e.step)).toEqual([`fail job ${req.request_id}`]);
    expect((await store.getJob(req.request_id))?.state).toBe("running");
  });
});
