import { z } from "zod";
import { optionalField } from "./optional-field.ts";
import { parseMessage } from "./parse-message.ts";
import { CompatTimestampSchema, nowRfc3339 } from "./timestamp.ts";

/** The `schema_version` every JobRequest of this shape carries (and the original's routing key). */
export const JOB_REQUEST_SCHEMA_VERSION = "jobrequest.v1";

/** Where a job request came from: a forge, or a person (`ciadm trigger`, `cidev run`). */
export const SourceSystemSchema = z.enum(["github", "forgejo", "manual"]);
/** @see SourceSystemSchema */
export type SourceSystem = z.infer<typeof SourceSystemSchema>;

/** A request id: a UUID, read in any case and kept lowercase (it keys jobs everywhere). */
export const RequestIdSchema = z.guid({ message: "expected a UUID" }).transform((id) => id.toLowerCase());

/** Environment variables: names to values, both strings. */
export const EnvSchema = z.record(z.string().min(1, "variable name must not be empty"), z.string());
/** @see EnvSchema */
export type Env = z.infer<typeof EnvSchema>;

/**
 * One step of a job as the orchestrator runs it in the guest: a shell command plus how to run it.
 * Translated by the runner services from Actions `run` steps, or by `kdlJobToSteps` from KDL.
 */
export const JobStepSchema = z.object({
  /** Shown in the forge and in logs; producers fill it from the Actions/KDL name or the command. */
  name: optionalField(z.string()),
  /** The Actions step `id` (for `steps.<id>.outputs`); optional. */
  id: optionalField(z.string()),
  /** The script, run by `shell`. */
  run: z.string(),
  /** Step-level variables, applied over the job's `env`. */
  env: optionalField(EnvSchema),
  /** `sh` (default: `sh -e`), `bash` (`bash -e`), or a template with `{0}` for the script file. */
  shell: optionalField(z.string().min(1)),
  /** Relative to the workspace, or absolute. */
  working_directory: optionalField(z.string().min(1)),
  /** The step is killed after this many seconds. */
  timeout_seconds: optionalField(z.number().positive()),
  /** A failure of this step does not fail the job. */
  continue_on_error: optionalField(z.boolean()),
  /** An Actions condition (without `${{ }}`), e.g. `failure()`; absent means `success()`. */
  if: optionalField(z.string()),
  /**
   * Fields of this step that still hold `${{ }}` expressions, to render when the step is reached
   * (they read earlier steps' outputs or GITHUB_ENV): `run`, `name`, `shell`,
   * `working_directory`, `env.<NAME>`. Every other field is final text and must not be rendered.
   * See `resolveRuntimeStep` and docs/actions-translation.md.
   */
  runtime_expressions: optionalField(
    z.array(z.string().regex(/^(run|name|shell|working_directory|env\..+)$/, "not a templated field")),
  ),
});
/** @see JobStepSchema */
export type JobStep = z.infer<typeof JobStepSchema>;

/** The kinds of service that can own a job, i.e. receive its events. */
export const OwnerKindSchema = z.enum(["forgejo", "github", "manual", "cidev"]);
/** @see OwnerKindSchema */
export type OwnerKind = z.infer<typeof OwnerKindSchema>;

/**
 * Who receives a job's events: a runner service instance (`forgejo` + its instance URL +
 * the forge's task id), `ciadm` (`manual`), or a `cidev` process. The event routing key is
 * derived from `kind` and `instance` (see `jobEventRoutingKey`).
 */
export const JobOwnerSchema = z.object({
  kind: OwnerKindSchema,
  /** Names the receiving instance, e.g. the Forgejo URL plus runner name; any non-empty string. */
  instance: z.string().min(1),
  /** The forge's own id for this job (Forgejo task id, GitHub job id), as a string. */
  task_id: optionalField(z.string().min(1)),
});
/** @see JobOwnerSchema */
export type JobOwner = z.infer<typeof JobOwnerSchema>;

/**
 * A request to run one job, JSON-compatible with the original's `common::messages::JobRequest`
 * (field names, `source` values, `schema_version` defaulting to `jobrequest.v1`). Every field
 * after `submitted_at` is an additive, optional extension. Unknown fields are accepted and
 * dropped (forward compatibility: a newer producer may add fields).
 */
export const JobRequestSchema = z
  .object({
    schema_version: z.literal(JOB_REQUEST_SCHEMA_VERSION).default(JOB_REQUEST_SCHEMA_VERSION),
    request_id: RequestIdSchema,
    source: SourceSystemSchema,
    repo_url: z.string().min(1),
    commit_sha: z.string().min(1),
    /** Path of the workflow file in the repository, when the job comes from one. */
    workflow_path: z
      .string()
      .nullish()
      .transform((v) => v ?? null),
    /** Which job of that workflow to run. */
    workflow_job_id: z
      .string()
      .nullish()
      .transform((v) => v ?? null),
    /** The label (image) the job wants, resolved through the orchestrator's aliases. */
    runs_on: z
      .string()
      .nullish()
      .transform((v) => v ?? null),
    /** RFC 3339; the `time` crate's serde forms are also read and converted to RFC 3339 UTC. */
    submitted_at: CompatTimestampSchema,

    /** The commands to run; absent means the guest falls back to `.solstice/job.sh`, then the KDL. */
    steps: optionalField(z.array(JobStepSchema)),
    /** Job-level variables for every step. */
    env: optionalField(EnvSchema),
    /** The whole job is cancelled after this many seconds. */
    timeout_seconds: optionalField(z.number().positive()),
    /** Keep the VM for debugging if the job fails (ADR-003); never the default. */
    debug_ssh: optionalField(z.boolean()),
    /** Who receives the job's events. */
    owner: optionalField(JobOwnerSchema),
    /** Labels the runner advertised for this job (informational; `runs_on` decides placement). */
    labels: optionalField(z.array(z.string())),
    /**
     * Values to mask (replace by `***`) in every log line: secret values the steps' env carries.
     * The message therefore holds secrets: never log a JobRequest whole.
     */
    mask: optionalField(z.array(z.string().min(1))),
    /**
     * `false`: the engine leaves the workspace empty (no clone of `repo_url`), because the steps
     * check the repository out themselves (Actions' `actions/checkout`, with the task's token).
     * Absent means true: the engine checks out `repo_url` at `commit_sha`.
     */
    workspace_checkout: optionalField(z.boolean()),
  })
  .describe("JobRequest");
/** A validated JobRequest, as consumers see it. */
export type JobRequest = z.infer<typeof JobRequestSchema>;
/** A JobRequest as it may arrive on the wire (before defaults and normalisation). */
export type JobRequestInput = z.input<typeof JobRequestSchema>;

/**
 * The JobRequest fields a workflow job decides (everything but source, repository, commit and
 * ids): what a KDL job (`kdlJobRequestFields`) and a translated Actions job (`translateJob`) fill,
 * to be spread into `newJobRequest`.
 */
export interface WorkflowJobFields {
  workflow_path: string | null;
  workflow_job_id: string;
  runs_on: string | null;
  labels?: string[];
  steps: JobStep[];
  env?: Env;
  timeout_seconds?: number;
  debug_ssh?: boolean;
  mask?: string[];
}

/** What `newJobRequest` needs: the rest is filled in. */
export type NewJobRequest = Omit<JobRequestInput, "schema_version" | "request_id" | "submitted_at"> &
  Partial<Pick<JobRequestInput, "request_id" | "submitted_at">>;

/**
 * Builds a JobRequest with a fresh `request_id` and `submitted_at` = now, as the original's
 * `JobRequest::new`. Throws `MessageValidationError` if a field is invalid.
 *
 * @example
 *   const req = newJobRequest({ source: "manual", repo_url: "https://x/y.git", commit_sha: sha });
 */
export function newJobRequest(input: NewJobRequest): JobRequest {
  return parseMessage(JobRequestSchema, {
    ...input,
    schema_version: JOB_REQUEST_SCHEMA_VERSION,
    request_id: input.request_id ?? crypto.randomUUID(),
    submitted_at: input.submitted_at ?? nowRfc3339(),
  });
}
