import type { ColumnType, Insertable, Selectable, Updateable } from "kysely";

// The tables as kysely sees them. Column names are the SQL names (snake_case); the domain records
// (job-records.ts) use camelCase and are mapped by row-mapping.ts. There is deliberately no column
// for SSH keys, private or public (ADR-003): keys live in memory and in the VM's 0700 directory only.

/** A timestamp column: read as `Date`, written as `Date`. */
type Timestamp = ColumnType<Date, Date, Date>;
/** A nullable timestamp column. */
type NullableTimestamp = ColumnType<Date | null, Date | null | undefined, Date | null>;
/** A jsonb column: read as parsed JSON, written as its JSON text. */
type Json = ColumnType<unknown, string, string>;

/** One row per job, keyed by the request id. */
export interface JobsTable {
  request_id: string;
  source: string;
  repo_url: string;
  commit_sha: string;
  runs_on: string | null;
  /** `runs_on` (or the default label) after alias resolution; null when it could not be resolved. */
  resolved_label: string | null;
  /** `accepted` | `running` | `finished` (see docs/orchestrator.md, "Job states"). */
  state: string;
  /** `success` | `failure` | `cancelled` once finished, else null. */
  conclusion: string | null;
  reason: string | null;
  /** The orchestrator host that accepted (and runs) the job. */
  host_id: string;
  owner_kind: string | null;
  owner_instance: string | null;
  owner_task_id: string | null;
  /** The JobRequest as received, with every secret value replaced and `mask` removed. */
  request: Json;
  /** False when the request carried secrets: the stored copy cannot be re-run, so it is never requeued. */
  requeueable: ColumnType<boolean, boolean | undefined, boolean>;
  /** True once the first step began: from then on a restart fails the job instead of requeueing it. */
  steps_started: ColumnType<boolean, boolean | undefined, boolean>;
  /** 1 for the first run; +1 on every requeue after a restart. */
  attempt: ColumnType<number, number | undefined, number>;
  /** The `seq` of the job's next event: written before events are published (see migration 0004). */
  next_event_seq: ColumnType<number, number | undefined, number>;
  received_at: Timestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  updated_at: Timestamp;
}

/** One row per VM (a job may have more than one when it was requeued). */
export interface VmsTable {
  vm_name: string;
  request_id: string;
  host_id: string;
  /** `preparing` | `running` | `debug_hold` | `destroyed`. */
  state: string;
  ssh_port: number | null;
  pid: number | null;
  work_dir: string;
  overlay_path: string | null;
  seed_path: string | null;
  /** Set while the VM is kept for debug SSH: when it is force-destroyed. */
  debug_until: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
  destroyed_at: NullableTimestamp;
}

/** The recent output lines of each job, one row per line (older lines are pruned, see JobStore's `logRetention`). */
export interface JobLogsTable {
  request_id: string;
  /** The job event's sequence number (per job; log lines share it with the other events, so it has gaps). */
  seq: number;
  /** The line's index within its event (a step's lines read together share one `seq`), from 0. */
  line: number;
  /** Step index; null for job-level lines (boot console, checkout, teardown). */
  step: number | null;
  /** `stdout` | `stderr` | `system`. */
  stream: string;
  text: string;
  ts: Timestamp;
}

/** The orchestrator's database, as kysely sees it. */
export interface OrchestratorDatabase {
  jobs: JobsTable;
  vms: VmsTable;
  job_logs: JobLogsTable;
  fleet_hosts: FleetHostsTable;
}

/** One row per orchestrator host, upserted by its heartbeat (migration 0006). */
export interface FleetHostsTable {
  host_id: string;
  /** label -> capacity for that label, as JSON text on write. */
  labels: Json;
  capacity: number;
  running_jobs: number;
  started_at: Timestamp;
  last_seen: Timestamp;
  stopped_at: NullableTimestamp;
  /** The orchestrator's version (migration 0007); null in rows written before it. */
  version: ColumnType<string | null, string | null | undefined, string | null>;
  /** The host's heartbeat interval (migration 0007); null in rows written before it. */
  heartbeat_secs: ColumnType<number | null, number | null | undefined, number | null>;
  /** When its stop began (migration 0007); null while it takes jobs. */
  draining_since: NullableTimestamp;
}

export type JobRow = Selectable<JobsTable>;
export type NewJobRow = Insertable<JobsTable>;
export type JobRowUpdate = Updateable<JobsTable>;
export type VmRow = Selectable<VmsTable>;
export type NewVmRow = Insertable<VmsTable>;
export type VmRowUpdate = Updateable<VmsTable>;
export type JobLogRow = Selectable<JobLogsTable>;
export type NewJobLogRow = Insertable<JobLogsTable>;
