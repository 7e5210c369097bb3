import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { FoundProcess, ProcessStatus } from "@solstice/vm-engine";
import { findQemuProcesses, killAndWait, probeVmProcess } from "@solstice/vm-engine";
import type { JobRecord } from "../persistence/job-records.ts";
import type { JobStore } from "../persistence/job-store.ts";
import { planRecovery, type RecoveryPlan } from "./recovery-plan.ts";

/** What `recoverHost` needs. The I/O functions default to the real ones (vm-engine's qemu-processes.ts, fs). */
export interface RecoveryDeps {
  readonly store: JobStore;
  readonly hostId: string;
  /** This host's VM directory (each VM's work dir lives under it); enables the scan for strays. */
  readonly vmRoot?: string | undefined;
  /** Tells the job's owner it failed (publishes `job_finished`); called before the store records it. */
  readonly reportFailed: (job: JobRecord, reason: string) => Promise<void>;
  /** Puts a job back into this orchestrator's queue; called after the store recorded the requeue. */
  readonly requeue: (job: JobRecord) => Promise<void>;
  readonly maxAttempts?: number | undefined;
  readonly probe?: ((pid: number, workDir: string) => Promise<ProcessStatus>) | undefined;
  readonly findQemu?: ((vmRoot: string) => Promise<FoundProcess[]>) | undefined;
  readonly kill?: ((pid: number) => Promise<void>) | undefined;
  readonly removeDir?: ((dir: string) => Promise<void>) | undefined;
  /** Where to say what was done (pino-like). */
  readonly log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void } | undefined;
}

/** What recovery did. */
export interface RecoveryReport {
  readonly plan: RecoveryPlan;
  /** Steps that failed (the rest went on); a second start retries them. */
  readonly errors: readonly { step: string; error: unknown }[];
}

/**
 * Settles what a previous run with this host id left behind (see `planRecovery`): gathers the
 * facts, plans, then kills, removes, marks destroyed, and reports or requeues each job. Each step
 * goes on when another fails; a job whose report fails stays unfinished and is retried at the
 * next start (delivery of the failure is at least once).
 */
export async function recoverHost(deps: RecoveryDeps): Promise<RecoveryReport> {
  const probe = deps.probe ?? probeVmProcess;
  const kill = deps.kill ?? ((pid: number) => killAndWait(pid));
  const removeDir = deps.removeDir ?? ((dir: string) => rm(dir, { recursive: true, force: true }));

  const vms = await deps.store.vmsForHost(deps.hostId);
  const processes = new Map<string, ProcessStatus>();
  for (const vm of vms) if (vm.pid !== null) processes.set(vm.vmName, await probe(vm.pid, vm.workDir));
  const jobs = await deps.store.unfinishedForHost(deps.hostId);
  let qemuProcesses: FoundProcess[] = [];
  let workDirsOnDisk: string[] = [];
  if (deps.vmRoot !== undefined) {
    qemuProcesses = await (deps.findQemu ?? findQemuProcesses)(deps.vmRoot);
    workDirsOnDisk = await listDirs(deps.vmRoot);
  }
  const plan = planRecovery({
    vms,
    processes,
    qemuProcesses,
    workDirsOnDisk,
    jobs,
    maxAttempts: deps.maxAttempts,
  });

  const errors: { step: string; error: unknown }[] = [];
  const attempt = async (step: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      errors.push({ step, error });
      deps.log?.warn({ err: error, step }, "recovery step failed");
    }
  };
  for (const note of plan.notes) deps.log?.warn({ hostId: deps.hostId }, note);
  for (const k of plan.kill) {
    await attempt(`kill ${k.pid}`, async () => {
      await kill(k.pid);
      deps.log?.info({ pid: k.pid, vm: k.vmName }, "stopped a QEMU left by the previous run");
    });
  }
  for (const dir of plan.removeWorkDirs) await attempt(`remove ${dir}`, () => removeDir(dir));
  for (const vmName of plan.markVmsDestroyed) {
    await attempt(`mark ${vmName} destroyed`, async () => {
      await deps.store.markVmDestroyed(vmName);
    });
  }
  const byId = new Map(jobs.map((j) => [j.requestId, j]));
  for (const f of plan.failJobs) {
    const job = byId.get(f.requestId);
    if (job === undefined) continue;
    await attempt(`fail job ${f.requestId}`, async () => {
      await deps.reportFailed(job, f.reason);
      await deps.store.finish(f.requestId, "failure", f.reason);
      deps.log?.info({ requestId: f.requestId, why: f.why }, "job left by the previous run reported failed");
    });
  }
  for (const id of plan.requeueJobs) {
    await attempt(`requeue job ${id}`, async () => {
      const job = await deps.store.requeue(id);
      await deps.requeue(job);
      deps.log?.info({ requestId: id, attempt: job.attempt }, "job left by the previous run requeued");
    });
  }
  return { plan, errors };
}

async function listDirs(root: string): Promise<string[]> {
  try {
    const entries = await readdir(root, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => join(root, e.name));
  } catch {
    return []; // no VM directory yet: nothing left behind
  }
}
