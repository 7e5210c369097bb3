import {
  kdlJobRequestFields,
  type TranslationWarning,
  translateJob,
  type WorkflowJobFields,
} from "@solstice/common";
import { JobSelectionError } from "../errors.ts";
import { jobSummaries, type LoadedWorkflow } from "./load-workflow.ts";

/** The repository and commit the job is translated for: the Actions `github` context. */
export interface TranslationContext {
  /** The job to translate; may be left out when the workflow has one job. */
  readonly jobId?: string | undefined;
  /** The workflow file's path in its repository (`workflow_path`). */
  readonly workflowPath: string | null;
  /** The commit (`github.sha`). */
  readonly sha: string;
  /** The ref (`github.ref`, e.g. `refs/heads/main`). */
  readonly ref: string;
  /** `owner/name` (`github.repository`). */
  readonly repository: string;
  /** `github.server_url`. */
  readonly serverUrl: string;
  /** Where `actions/checkout` fetches from instead of `<server_url>/<repository>` (cidev run). */
  readonly checkoutUrl?: string | undefined;
  /** The label to run on, over the workflow's. */
  readonly runsOn?: string | undefined;
}

/** One job as a runner service would publish it. */
export interface JobTranslation {
  readonly jobId: string;
  /** The job's display name (Actions `name:`, else its id). */
  readonly name: string;
  readonly fields: WorkflowJobFields;
  /** What Solstice translates differently from Actions, or ignores (always empty for KDL). */
  readonly warnings: readonly TranslationWarning[];
  /** False when the job's own `if:` says it would be skipped. */
  readonly shouldRun: boolean;
  /** For each step, the `uses:` action it was made from; undefined for a `run` step. */
  readonly uses: readonly (string | undefined)[];
}

/**
 * The job's id: the one named, or the workflow's only job.
 * @throws JobSelectionError
 */
export function selectJob(loaded: LoadedWorkflow, jobId: string | undefined): string {
  const ids = jobSummaries(loaded).map((j) => j.id);
  if (jobId === undefined) {
    if (ids.length === 1) return ids[0]!;
    throw new JobSelectionError(loaded.file, undefined, ids);
  }
  if (!ids.includes(jobId)) throw new JobSelectionError(loaded.file, jobId, ids);
  return jobId;
}

/**
 * Translates one job into the JobRequest fields a runner service (Actions) or the VM runner
 * fallback (KDL) would publish, with the same code they use (`translateJob`,
 * `kdlJobRequestFields`).
 *
 * @throws JobSelectionError; for Actions, ActionsExpressionError or ActionsUnsupportedJobError
 */
export function translateWorkflowJob(loaded: LoadedWorkflow, context: TranslationContext): JobTranslation {
  const jobId = selectJob(loaded, context.jobId);
  if (loaded.format === "kdl") {
    const job = loaded.workflow.jobsById.get(jobId)!;
    // The same fields as the VM runner's fallback (common's kdlJobRequestFields).
    const kdl = kdlJobRequestFields(job);
    const fields: WorkflowJobFields = {
      ...kdl,
      workflow_path: context.workflowPath,
      runs_on: context.runsOn ?? kdl.runs_on,
    };
    return {
      jobId,
      name: jobId,
      fields,
      warnings: [],
      shouldRun: true,
      uses: job.steps.map(() => undefined),
    };
  }
  const job = loaded.workflow.jobs.find((j) => j.id === jobId)!;
  const refName = context.ref.replace(/^refs\/(heads|tags)\//, "");
  const translated = translateJob({
    workflow: loaded.workflow,
    jobId,
    workflowPath: context.workflowPath ?? undefined,
    contexts: {
      github: {
        sha: context.sha,
        ref: context.ref,
        ref_name: refName,
        ref_type: context.ref.startsWith("refs/tags/") ? "tag" : "branch",
        repository: context.repository,
        repository_owner: context.repository.split("/")[0] ?? "",
        server_url: context.serverUrl,
        event_name: "workflow_dispatch",
        actor: "cidev",
        triggering_actor: "cidev",
        workflow: loaded.workflow.name ?? context.workflowPath ?? loaded.file,
        run_id: "1",
        run_number: "1",
        run_attempt: "1",
      },
    },
    ...(context.checkoutUrl === undefined ? {} : { checkoutUrl: context.checkoutUrl }),
    ...(context.runsOn === undefined ? {} : { runsOn: context.runsOn }),
  });
  const { request } = translated;
  const fields: WorkflowJobFields = {
    workflow_path: request.workflow_path,
    workflow_job_id: request.workflow_job_id,
    runs_on: context.runsOn ?? request.runs_on,
    labels: request.labels,
    steps: request.steps,
    env: request.env,
    ...(request.timeout_seconds === undefined ? {} : { timeout_seconds: request.timeout_seconds }),
    ...(request.mask.length === 0 ? {} : { mask: request.mask }),
  };
  return {
    jobId,
    name: translated.name,
    fields,
    warnings: translated.warnings,
    shouldRun: translated.shouldRun,
    uses: job.steps.map((s) => s.uses),
  };
}
