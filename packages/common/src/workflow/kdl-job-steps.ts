import type { JobStep, WorkflowJobFields } from "../messages/job-request.ts";
import type { WorkflowJob } from "./workflow-types.ts";

/**
 * The JobRequest steps for a KDL job, in order (what the VM runner fallback and `cidev` run).
 * Step-level settings only: the job's `env` and `timeout` go to the request itself
 * (see `kdlJobRequestFields`).
 */
export function kdlJobToSteps(job: WorkflowJob): JobStep[] {
  return job.steps.map((step) => {
    const out: JobStep = { run: step.run };
    if (step.name !== undefined) out.name = step.name;
    if (Object.keys(step.env).length > 0) out.env = { ...step.env };
    if (step.shell !== undefined) out.shell = step.shell;
    if (step.working_directory !== undefined) out.working_directory = step.working_directory;
    if (step.timeout_seconds !== undefined) out.timeout_seconds = step.timeout_seconds;
    if (step.continue_on_error !== undefined) out.continue_on_error = step.continue_on_error;
    if (step.if !== undefined) out.if = step.if;
    return out;
  });
}

/** The JobRequest fields a KDL job determines, ready to spread into `newJobRequest`. */
/** The fields a KDL job decides (no labels or masks: KDL has neither). */
export type KdlJobRequestFields = Omit<WorkflowJobFields, "labels" | "mask">;

/**
 * The part of a JobRequest that a KDL job decides: its id, `runs_on`, steps, env, timeout and
 * debug SSH opt-in; `workflowPath` is the file's path in the repository.
 *
 * @example
 *   newJobRequest({ source: "manual", repo_url, commit_sha, ...kdlJobRequestFields(job, ".solstice/workflow.kdl") });
 */
export function kdlJobRequestFields(job: WorkflowJob, workflowPath?: string): KdlJobRequestFields {
  const fields: KdlJobRequestFields = {
    workflow_path: workflowPath ?? null,
    workflow_job_id: job.id,
    runs_on: job.runs_on ?? null,
    steps: kdlJobToSteps(job),
  };
  if (Object.keys(job.env).length > 0) fields.env = { ...job.env };
  if (job.timeout_seconds !== undefined) fields.timeout_seconds = job.timeout_seconds;
  if (job.debug_ssh !== undefined) fields.debug_ssh = job.debug_ssh;
  return fields;
}
