import {
  contextDictionary,
  expandMatrix,
  type JsonValue,
  kdlJobRequestFields,
  type MatrixCombination,
  type Need,
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
  /** What `cidev run` was told about the run (secrets, vars, event...); empty by default. */
  readonly run?: RunContexts | undefined;
}

/** The contexts `cidev run`'s flags fill (Actions; for KDL only `env` and `secrets`, as variables). */
export interface RunContexts {
  /** `github.event_name` (default `workflow_dispatch`). */
  readonly eventName?: string | undefined;
  /** `github.event`: the event's payload (`--event-file`). */
  readonly eventPayload?: Readonly<Record<string, JsonValue>> | undefined;
  readonly secrets?: Readonly<Record<string, string>> | undefined;
  readonly vars?: Readonly<Record<string, string>> | undefined;
  readonly inputs?: Readonly<Record<string, string>> | undefined;
  /** Variables for every step, below the workflow's own `env`. */
  readonly env?: Readonly<Record<string, string>> | undefined;
  /** The matrix row to translate for (default: the first, with a warning when there are several). */
  readonly matrix?: MatrixCombination | undefined;
  /** What the jobs this one needs left behind. */
  readonly needs?: Readonly<Record<string, Need>> | undefined;
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
  /** The job's `outputs:` as templates over `steps` (render them once the job is done). */
  readonly outputs: Readonly<Record<string, string>>;
  /** The matrix row it was translated for (`{}` without a matrix). */
  readonly matrix: MatrixCombination;
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
    // KDL has no contexts: `--env` and `--secret` become variables of every step (secrets masked).
    const run = context.run ?? {};
    const extraEnv = { ...(run.env ?? {}), ...(run.secrets ?? {}) };
    const secretValues = Object.values(run.secrets ?? {}).filter((v) => v.trim() !== "");
    const fields: WorkflowJobFields = {
      ...kdl,
      workflow_path: context.workflowPath,
      runs_on: context.runsOn ?? kdl.runs_on,
      ...(Object.keys(extraEnv).length === 0 ? {} : { env: { ...extraEnv, ...(kdl.env ?? {}) } }),
      ...(secretValues.length === 0 ? {} : { mask: secretValues }),
    };
    return {
      jobId,
      name: jobId,
      fields,
      warnings: [],
      shouldRun: true,
      uses: job.steps.map(() => undefined),
      outputs: {},
      matrix: {},
    };
  }
  const job = loaded.workflow.jobs.find((j) => j.id === jobId)!;
  const run = context.run ?? {};
  const translated = translateJob({
    workflow: loaded.workflow,
    jobId,
    workflowPath: context.workflowPath ?? undefined,
    contexts: {
      github: githubContext(loaded, context),
      secrets: { ...(run.secrets ?? {}) },
      vars: { ...(run.vars ?? {}) },
      inputs: { ...(run.inputs ?? {}) },
      needs: { ...(run.needs ?? {}) },
      ...(run.matrix === undefined ? {} : { matrix: run.matrix }),
    },
    ...(run.env === undefined ? {} : { runnerEnv: run.env }),
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
    outputs: translated.outputs,
    matrix: translated.matrix,
  };
}

/**
 * The `github` context of a local run: the repository and commit, the event (`--event`,
 * `--event-file`; `workflow_dispatch` by default, its `inputs` in the payload as a forge puts them).
 */
function githubContext(
  loaded: LoadedWorkflow & { format: "actions" },
  context: TranslationContext,
): Record<string, unknown> {
  const run = context.run ?? {};
  const eventName = run.eventName ?? "workflow_dispatch";
  const payload: Record<string, unknown> = { ...(run.eventPayload ?? {}) };
  if (run.inputs !== undefined && Object.keys(run.inputs).length > 0) {
    payload["inputs"] = { ...(isRecord(payload["inputs"]) ? payload["inputs"] : {}), ...run.inputs };
  }
  const pull = isRecord(payload["pull_request"]) ? payload["pull_request"] : undefined;
  const refOf = (side: string) => {
    const part = pull?.[side];
    return isRecord(part) && typeof part["ref"] === "string" ? part["ref"] : undefined;
  };
  return {
    sha: context.sha,
    ref: context.ref,
    ref_name: context.ref.replace(/^refs\/(heads|tags)\//, ""),
    ref_type: context.ref.startsWith("refs/tags/") ? "tag" : "branch",
    repository: context.repository,
    repository_owner: context.repository.split("/")[0] ?? "",
    server_url: context.serverUrl,
    event_name: eventName,
    event: payload,
    actor: "cidev",
    triggering_actor: "cidev",
    workflow: loaded.workflow.name ?? context.workflowPath ?? loaded.file,
    run_id: "1",
    run_number: "1",
    run_attempt: "1",
    ...(refOf("head") === undefined ? {} : { head_ref: refOf("head") }),
    ...(refOf("base") === undefined ? {} : { base_ref: refOf("base") }),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Every row of a job's matrix (`[{}]` without one, and for KDL), computed as a forge would: the
 * matrix may read `github`, `vars`, `inputs` and `needs`.
 * @throws JobSelectionError; ActionsExpressionError when the matrix cannot be evaluated
 */
export function jobMatrixRows(
  loaded: LoadedWorkflow,
  jobId: string,
  context: TranslationContext,
): MatrixCombination[] {
  if (loaded.format === "kdl") return [{}];
  const job = loaded.workflow.jobs.find((j) => j.id === selectJob(loaded, jobId))!;
  const run = context.run ?? {};
  const rows = expandMatrix(
    job.strategy,
    contextDictionary({
      github: githubContext(loaded, context),
      vars: { ...(run.vars ?? {}) },
      inputs: { ...(run.inputs ?? {}) },
      needs: { ...(run.needs ?? {}) },
    }),
  );
  if (!Array.isArray(rows)) {
    // The translation throws it with the file's position.
    translateWorkflowJob(loaded, { ...context, jobId: job.id, run: { ...run, matrix: undefined } });
    return [{}];
  }
  return rows.length === 0 ? [{}] : rows;
}

/** The jobs with their `needs` (none for KDL), in file order. */
export function jobNeeds(loaded: LoadedWorkflow): { id: string; needs: readonly string[] }[] {
  if (loaded.format === "kdl") return loaded.workflow.jobs.map((j) => ({ id: j.id, needs: [] }));
  return loaded.workflow.jobs.map((j) => ({ id: j.id, needs: j.needs }));
}
