import type { JobConclusion, LogStream, OwnerKind, SourceSystem } from "@solstice/common";

// The domain view of what the orchestrator records: what the service, the HTTP API and recovery
// work with. Rows are mapped to these in row-mapping.ts; nothing here knows SQL.

/**
 * Where a job is in its life:
 *
 * ```
 *   (new) --recordAccepted--> accepted --markRunning--> running --finish--> finished
 *                                |  ^                      |
 *                                |  '------requeue---------'   (restart, before any step began)
 *                                '-----------finish-----------> finished   (cancelled, unknown label, restart)
 * ```
 *
 * `accepted`: durably recorded (only then is the message acked), waiting for capacity.
 * `running`: capacity taken, VM being provisioned or steps running.
 * `finished`: terminal; `conclusion` says how it ended.
 */
export const JOB_STATES = ["accepted", "running", "finished"] as const;
/** @see JOB_STATES */
export type JobState = (typeof JOB_STATES)[number];

/** The states from which a job may still change. */
export const UNFINISHED_JOB_STATES: readonly JobState[] = ["accepted", "running"];

/** Who receives a job's events (from the JobRequest's `owner`). */
export interface JobOwnerRecord {
  readonly kind: OwnerKind;
  readonly instance: string;
  readonly taskId: string | null;
}

/** A job as recorded. */
export interface JobRecord {
  readonly requestId: string;
  readonly source: SourceSystem;
  readonly repoUrl: string;
  readonly commitSha: string;
  readonly runsOn: string | null;
  /** The label after alias resolution; null when it could not be resolved. */
  readonly label: string | null;
  readonly state: JobState;
  /** Set exactly when `state` is `finished`. */
  readonly conclusion: JobConclusion | null;
  readonly reason: string | null;
  readonly hostId: string;
  readonly owner: JobOwnerRecord | null;
  /** The JobRequest as received, secrets replaced by `***` and `mask` removed. */
  readonly request: Readonly<Record<string, unknown>>;
  /** False when the request carried secrets (the stored copy cannot be re-run). */
  readonly requeueable: boolean;
  readonly stepsStarted: boolean;
  /** 1 for the first run, +1 per requeue. */
  readonly attempt: number;
  readonly receivedAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly updatedAt: Date;
}

/**
 * Where a VM is in its life: `preparing` (work dir, overlay, seed; no process yet) → `running`
 * (QEMU started, `pid` known) → `destroyed`; or `running` → `debug_hold` (kept for debug SSH until
 * `debugUntil`) → `destroyed`.
 */
export const VM_STATES = ["preparing", "running", "debug_hold", "destroyed"] as const;
/** @see VM_STATES */
export type VmState = (typeof VM_STATES)[number];

/** A VM as recorded. Never carries key material. */
export interface VmRecord {
  readonly vmName: string;
  readonly requestId: string;
  readonly hostId: string;
  readonly state: VmState;
  readonly sshPort: number | null;
  readonly pid: number | null;
  readonly workDir: string;
  readonly overlayPath: string | null;
  readonly seedPath: string | null;
  readonly debugUntil: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly destroyedAt: Date | null;
}

/** What `recordVm` needs: the VM as the engine prepared it. */
export interface NewVm {
  readonly vmName: string;
  readonly requestId: string;
  readonly hostId: string;
  readonly workDir: string;
  readonly state?: Exclude<VmState, "destroyed"> | undefined;
  readonly sshPort?: number | null | undefined;
  readonly pid?: number | null | undefined;
  readonly overlayPath?: string | null | undefined;
  readonly seedPath?: string | null | undefined;
}

/** What `updateVm` may change. Absent fields are left as they are. */
export interface VmUpdate {
  readonly state?: Exclude<VmState, "destroyed"> | undefined;
  readonly sshPort?: number | null | undefined;
  readonly pid?: number | null | undefined;
  readonly overlayPath?: string | null | undefined;
  readonly seedPath?: string | null | undefined;
  readonly debugUntil?: Date | null | undefined;
}

/** Where a line is in its job's log: its event's `seq`, then its index within the event. */
export interface LogPosition {
  readonly seq: number;
  readonly line: number;
}

/** One stored output line of a job. */
export interface LogLine {
  readonly requestId: string;
  /** The job event's `seq` (per job, increasing, with gaps where other events were sent). */
  readonly seq: number;
  /** The line's index within its event (a log event carries the lines a step printed together), from 0. */
  readonly line: number;
  /** Step index, or null for job-level lines. */
  readonly step: number | null;
  readonly stream: LogStream;
  readonly text: string;
  readonly ts: Date;
}
