import { type JobStep, kdlJobToSteps, parseWorkflow } from "@solstice/common";
import { JobDefinitionError } from "../errors.ts";
import { shQuote } from "./shell-quote.ts";

// What a job runs. The request's `steps` when it has them; otherwise, as the original in-VM runner
// did, what the checked-out repository says: `.solstice/job.sh`, else the job of
// `.solstice/workflow.kdl` named by `workflow_job_id` (or its first job).

/** The repository files of the fallback, relative to the workspace. */
export const JOB_SCRIPT_PATH = ".solstice/job.sh";
export const WORKFLOW_KDL_PATH = ".solstice/workflow.kdl";

/** The steps to run and what the job definition adds to the request. */
export interface JobPlan {
  readonly steps: readonly JobStep[];
  /** Where the steps came from, for the log: `request`, `.solstice/job.sh`, `.solstice/workflow.kdl#<job>`. */
  readonly source: string;
  /** Job-level env from the workflow (applied under the request's own `env`). */
  readonly env: Readonly<Record<string, string>>;
  /** The workflow job's timeout, when the request has none. */
  readonly timeoutSeconds: number | undefined;
}

/** The single step that runs `.solstice/job.sh`: executable as is (its shebang), else by `sh`. */
export const JOB_SCRIPT_STEP: JobStep = Object.freeze({
  name: JOB_SCRIPT_PATH,
  run: `if [ -x ${JOB_SCRIPT_PATH} ]; then exec ./${JOB_SCRIPT_PATH}; else exec /bin/sh ./${JOB_SCRIPT_PATH}; fi`,
});

/** The plan of a request that carries its steps. */
export function planFromRequest(steps: readonly JobStep[]): JobPlan {
  return { steps, source: "request", env: {}, timeoutSeconds: undefined };
}

/** The plan for a repository with `.solstice/job.sh`. */
export function planFromJobScript(): JobPlan {
  return { steps: [JOB_SCRIPT_STEP], source: JOB_SCRIPT_PATH, env: {}, timeoutSeconds: undefined };
}

/**
 * The plan for `.solstice/workflow.kdl` text: the job `jobId`, or the first job. Throws
 * {@link JobDefinitionError} naming the file (and line and column for a KDL error).
 */
export function planFromWorkflowKdl(text: string, jobId: string | null | undefined): JobPlan {
  let workflow: ReturnType<typeof parseWorkflow>;
  try {
    workflow = parseWorkflow(text, WORKFLOW_KDL_PATH);
  } catch (error) {
    // Workflow errors already start with `file:line:column:`.
    const message = error instanceof Error ? error.message : String(error);
    throw new JobDefinitionError(
      message.startsWith(WORKFLOW_KDL_PATH) ? message : `${WORKFLOW_KDL_PATH}: ${message}`,
      {
        file: WORKFLOW_KDL_PATH,
        cause: error,
        hint: "fix the workflow (cidev validate .solstice/workflow.kdl shows every error)",
      },
    );
  }
  const job = jobId ? workflow.jobsById.get(jobId) : workflow.jobs[0];
  if (job === undefined) {
    const ids = workflow.jobs.map((j) => j.id);
    throw new JobDefinitionError(
      jobId ? `${WORKFLOW_KDL_PATH} has no job "${jobId}"` : `${WORKFLOW_KDL_PATH} has no job`,
      {
        file: WORKFLOW_KDL_PATH,
        hint: ids.length > 0 ? `jobs in the file: ${ids.join(", ")}` : "add a job with steps",
      },
    );
  }
  if (job.steps.length === 0) {
    throw new JobDefinitionError(`${WORKFLOW_KDL_PATH}: job "${job.id}" has no steps`, {
      file: WORKFLOW_KDL_PATH,
    });
  }
  return {
    steps: kdlJobToSteps(job),
    source: `${WORKFLOW_KDL_PATH}#${job.id}`,
    env: job.env,
    timeoutSeconds: job.timeout_seconds,
  };
}

/** A shell probe printing which fallback file the workspace has: `job.sh`, `workflow.kdl` or `none`. */
export function renderFallbackProbe(workspace: string): string {
  return `cd ${shQuote(workspace)} && if [ -f ${JOB_SCRIPT_PATH} ]; then echo job.sh; elif [ -f ${WORKFLOW_KDL_PATH} ]; then echo workflow.kdl; else echo none; fi`;
}
