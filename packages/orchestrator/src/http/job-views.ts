import type { JobRecord, LogLine, VmRecord } from "../persistence/job-records.ts";

// The API's JSON shapes: snake_case like the messages on the wire, timestamps as RFC 3339 (UTC).

/** A job as the API shows it. */
export interface JobView {
  readonly request_id: string;
  readonly source: string;
  readonly repo_url: string;
  readonly commit_sha: string;
  readonly runs_on: string | null;
  readonly label: string | null;
  readonly state: string;
  readonly conclusion: string | null;
  readonly reason: string | null;
  readonly host_id: string;
  readonly owner: {
    readonly kind: string;
    readonly instance: string;
    readonly task_id: string | null;
  } | null;
  readonly steps_started: boolean;
  readonly attempt: number;
  readonly received_at: string;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  readonly updated_at: string;
}

/** A VM as the API shows it (no key material exists to show). */
export interface VmView {
  readonly vm_name: string;
  readonly state: string;
  readonly ssh_port: number | null;
  readonly pid: number | null;
  readonly debug_until: string | null;
  readonly created_at: string;
  readonly destroyed_at: string | null;
}

/** A stored log line as the API shows it. */
export interface LogLineView {
  readonly seq: number;
  readonly step: number | null;
  readonly stream: string;
  readonly text: string;
  readonly ts: string;
}

/** The API's view of a job (the stored request is not shown: `GET /v1/jobs/:id` adds it). */
export function jobView(job: JobRecord): JobView {
  return {
    request_id: job.requestId,
    source: job.source,
    repo_url: job.repoUrl,
    commit_sha: job.commitSha,
    runs_on: job.runsOn,
    label: job.label,
    state: job.state,
    conclusion: job.conclusion,
    reason: job.reason,
    host_id: job.hostId,
    owner:
      job.owner === null
        ? null
        : { kind: job.owner.kind, instance: job.owner.instance, task_id: job.owner.taskId },
    steps_started: job.stepsStarted,
    attempt: job.attempt,
    received_at: job.receivedAt.toISOString(),
    started_at: job.startedAt?.toISOString() ?? null,
    finished_at: job.finishedAt?.toISOString() ?? null,
    updated_at: job.updatedAt.toISOString(),
  };
}

/** The API's view of a VM. */
export function vmView(vm: VmRecord): VmView {
  return {
    vm_name: vm.vmName,
    state: vm.state,
    ssh_port: vm.sshPort,
    pid: vm.pid,
    debug_until: vm.debugUntil?.toISOString() ?? null,
    created_at: vm.createdAt.toISOString(),
    destroyed_at: vm.destroyedAt?.toISOString() ?? null,
  };
}

/** The API's view of a log line. */
export function logLineView(line: LogLine): LogLineView {
  return { seq: line.seq, step: line.step, stream: line.stream, text: line.text, ts: line.ts.toISOString() };
}
