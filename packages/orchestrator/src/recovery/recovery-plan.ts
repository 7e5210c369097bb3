import type { FoundProcess, ProcessStatus } from "@solstice/vm-engine";
import type { JobRecord, VmRecord } from "../persistence/job-records.ts";

/** The reason a job that was running when its orchestrator stopped is reported failed with. */
export const RESTART_REASON = "orchestrator restarted";

/** How often a job may be started before a restart fails it instead of requeueing it again. */
export const DEFAULT_MAX_ATTEMPTS = 3;

/** What recovery knows at start, for one host id. */
export interface RecoveryInput {
  /** This host's VMs not marked destroyed. */
  readonly vms: readonly VmRecord[];
  /** For each of those VMs with a pid: what that pid is now, by VM name. */
  readonly processes: ReadonlyMap<string, ProcessStatus>;
  /** QEMU processes whose command line names this host's VM directory (recorded or not). */
  readonly qemuProcesses?: readonly FoundProcess[] | undefined;
  /** Work directories present on disk under this host's VM directory (recorded or not). */
  readonly workDirsOnDisk?: readonly string[] | undefined;
  /** This host's jobs in `accepted` or `running`. */
  readonly jobs: readonly JobRecord[];
  /** Attempts after which a job is failed rather than requeued (default 3). */
  readonly maxAttempts?: number | undefined;
}

/** A process to stop, and why. */
export interface KillDecision {
  readonly pid: number;
  /** The VM it belongs to, when recorded. */
  readonly vmName: string | null;
}

/** A job to report failed (event to its owner, then `finish`). */
export interface FailDecision {
  readonly requestId: string;
  readonly reason: string;
  /** Why it is not requeued, for the operator's log. */
  readonly why: string;
}

/** What recovery does, in this order: kill, remove, mark destroyed, then settle the jobs. */
export interface RecoveryPlan {
  readonly kill: readonly KillDecision[];
  readonly removeWorkDirs: readonly string[];
  readonly markVmsDestroyed: readonly string[];
  readonly failJobs: readonly FailDecision[];
  readonly requeueJobs: readonly string[];
  /** Things the operator should know (a pid reused by another process, left alone). */
  readonly notes: readonly string[];
}

/**
 * Decides how a starting orchestrator settles what its previous run (same host id) left behind.
 * Nothing of it can continue: the SSH keys lived in the dead process's memory. So:
 *
 * - every QEMU of ours still alive is killed (recorded pid that is still our QEMU, or any QEMU
 *   whose command line names our VM directory); a recorded pid now used by another program is
 *   left alone and noted;
 * - every recorded VM's work directory (and any other under the VM directory) is removed, and the
 *   VM marked destroyed — debug-SSH VMs included (their TTL timer died with the process);
 * - every unfinished job is requeued when no step had started, its stored request is complete
 *   (no secrets were redacted) and it has had fewer than `maxAttempts` attempts; else it is
 *   reported failed with the reason "orchestrator restarted". None stays `running`.
 *
 * Pure: the caller gathers the input (vm-engine's qemu-processes.ts, the store) and applies the plan.
 */
export function planRecovery(input: RecoveryInput): RecoveryPlan {
  const maxAttempts = input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const kill = new Map<number, KillDecision>();
  const notes: string[] = [];

  for (const vm of input.vms) {
    if (vm.pid === null) continue;
    const status = input.processes.get(vm.vmName) ?? "gone";
    if (status === "ours") kill.set(vm.pid, { pid: vm.pid, vmName: vm.vmName });
    else if (status === "foreign") {
      notes.push(`VM ${vm.vmName}: pid ${vm.pid} now belongs to another program; not killed`);
    }
  }
  for (const p of input.qemuProcesses ?? []) {
    if (kill.has(p.pid)) continue;
    const vm = input.vms.find((v) => v.pid === p.pid && input.processes.get(v.vmName) !== "foreign");
    kill.set(p.pid, { pid: p.pid, vmName: vm?.vmName ?? null });
  }

  const dirs = new Set<string>();
  for (const vm of input.vms) dirs.add(vm.workDir);
  for (const dir of input.workDirsOnDisk ?? []) dirs.add(dir);

  const failJobs: FailDecision[] = [];
  const requeueJobs: string[] = [];
  for (const job of input.jobs) {
    if (job.state === "finished") continue;
    const why = whyNotRequeue(job, maxAttempts);
    if (why === undefined) requeueJobs.push(job.requestId);
    else failJobs.push({ requestId: job.requestId, reason: RESTART_REASON, why });
  }

  return {
    kill: [...kill.values()].sort((a, b) => a.pid - b.pid),
    removeWorkDirs: [...dirs].sort(),
    markVmsDestroyed: input.vms.map((vm) => vm.vmName),
    failJobs,
    requeueJobs,
    notes,
  };
}

function whyNotRequeue(job: JobRecord, maxAttempts: number): string | undefined {
  if (job.stepsStarted) return "its steps had started";
  if (!job.requeueable) return "its request carried secrets, which are not stored";
  if (job.attempt >= maxAttempts) return `it was already started ${job.attempt} times`;
  return undefined;
}
