import {
  JobConclusionSchema,
  type JobRequest,
  LogStreamSchema,
  OwnerKindSchema,
  SourceSystemSchema,
} from "@solstice/common";
import { z } from "zod";
import type { JobLogRow, JobRow, NewJobLogRow, NewJobRow, NewVmRow, VmRow } from "./database-schema.ts";
import {
  JOB_STATES,
  type JobRecord,
  type LogLine,
  type NewVm,
  VM_STATES,
  type VmRecord,
} from "./job-records.ts";
import type { RedactedRequest } from "./redact-request.ts";

// Pure conversions between rows and domain records. Values read back are checked against the
// enums, so a row written by a newer version fails loudly here instead of deep in the service.

const JobStateSchema = z.enum(JOB_STATES);
const VmStateSchema = z.enum(VM_STATES);

/** A job row as the domain sees it. */
export function rowToJob(row: JobRow): JobRecord {
  return {
    requestId: row.request_id,
    source: SourceSystemSchema.parse(row.source),
    repoUrl: row.repo_url,
    commitSha: row.commit_sha,
    runsOn: row.runs_on,
    label: row.resolved_label,
    state: JobStateSchema.parse(row.state),
    conclusion: row.conclusion === null ? null : JobConclusionSchema.parse(row.conclusion),
    reason: row.reason,
    hostId: row.host_id,
    owner:
      row.owner_kind === null || row.owner_instance === null
        ? null
        : {
            kind: OwnerKindSchema.parse(row.owner_kind),
            instance: row.owner_instance,
            taskId: row.owner_task_id,
          },
    request: toJsonObject(row.request),
    requeueable: row.requeueable,
    stepsStarted: row.steps_started,
    attempt: row.attempt,
    receivedAt: row.received_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
  };
}

/** The row recorded when a request is accepted. `redacted` comes from `redactJobRequest(request)`. */
export function acceptedJobRow(
  request: JobRequest,
  redacted: RedactedRequest,
  fields: { hostId: string; label: string | null; now: Date },
): NewJobRow {
  return {
    request_id: request.request_id,
    source: request.source,
    repo_url: redacted.repoUrl,
    commit_sha: request.commit_sha,
    runs_on: request.runs_on,
    resolved_label: fields.label,
    state: "accepted",
    conclusion: null,
    reason: null,
    host_id: fields.hostId,
    owner_kind: request.owner?.kind ?? null,
    owner_instance: request.owner?.instance ?? null,
    owner_task_id: request.owner?.task_id ?? null,
    request: JSON.stringify(redacted.stored),
    requeueable: !redacted.hadSecrets,
    steps_started: false,
    attempt: 1,
    received_at: fields.now,
    started_at: null,
    finished_at: null,
    updated_at: fields.now,
  };
}

/** A VM row as the domain sees it. */
export function rowToVm(row: VmRow): VmRecord {
  return {
    vmName: row.vm_name,
    requestId: row.request_id,
    hostId: row.host_id,
    state: VmStateSchema.parse(row.state),
    sshPort: row.ssh_port,
    pid: row.pid,
    workDir: row.work_dir,
    overlayPath: row.overlay_path,
    seedPath: row.seed_path,
    debugUntil: row.debug_until,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    destroyedAt: row.destroyed_at,
  };
}

/** The row recorded for a VM the engine prepared. */
export function newVmRow(vm: NewVm, now: Date): NewVmRow {
  return {
    vm_name: vm.vmName,
    request_id: vm.requestId,
    host_id: vm.hostId,
    state: vm.state ?? "preparing",
    ssh_port: vm.sshPort ?? null,
    pid: vm.pid ?? null,
    work_dir: vm.workDir,
    overlay_path: vm.overlayPath ?? null,
    seed_path: vm.seedPath ?? null,
    debug_until: null,
    created_at: now,
    updated_at: now,
    destroyed_at: null,
  };
}

/** A stored log line as the domain sees it. */
export function rowToLogLine(row: JobLogRow): LogLine {
  return {
    requestId: row.request_id,
    seq: row.seq,
    line: row.line,
    step: row.step,
    stream: LogStreamSchema.parse(row.stream),
    text: row.text,
    ts: row.ts,
  };
}

/** The row for a log line (its text already filtered for key material). */
export function logLineRow(line: LogLine, text: string): NewJobLogRow {
  return {
    request_id: line.requestId,
    seq: line.seq,
    line: line.line,
    step: line.step,
    stream: line.stream,
    text,
    ts: line.ts,
  };
}

function toJsonObject(value: unknown): Record<string, unknown> {
  // pg and PGlite parse jsonb; a string means a driver that did not (parse it ourselves).
  const parsed: unknown = typeof value === "string" ? JSON.parse(value) : value;
  const out: Record<string, unknown> = {};
  if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) Object.assign(out, parsed);
  return out;
}
