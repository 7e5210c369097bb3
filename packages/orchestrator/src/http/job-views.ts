import type { JobView, LogLineView, VmView } from "@solstice/common";
import type { JobRecord, LogLine, VmRecord } from "../persistence/job-records.ts";

// Stored records as the API shows them; the shapes are the API's contract in common
// (`JobViewSchema` and the others), which clients parse.

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
  return {
    seq: line.seq,
    line: line.line,
    step: line.step,
    stream: line.stream,
    text: line.text,
    ts: line.ts.toISOString(),
  };
}
