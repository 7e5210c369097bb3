import { z } from "zod";

// The contexts a runner service knows about a job when it translates it: from a Forgejo task
// (`context`, `secrets`, `vars`, `needs`) or a GitHub job message (`contextData`). `env` and
// `steps` are not among them: `env` comes from the workflow itself, `steps` from the run.

const JsonObjectSchema = z.record(z.string(), z.unknown());

/** What a job that this one `needs` left behind. */
export const NeedSchema = z.object({
  /** `success`, `failure`, `cancelled` or `skipped`. */
  result: z.string().optional(),
  outputs: z.record(z.string(), z.string()).optional(),
});
/** @see NeedSchema */
export type Need = z.infer<typeof NeedSchema>;

/**
 * The contexts of a job (all optional). `github` holds the event, sha, ref, repository,
 * server_url, token…; `secrets` and `vars` are names to values.
 */
export const ActionsContextsSchema = z.object({
  github: JsonObjectSchema.optional(),
  vars: z.record(z.string(), z.string()).optional(),
  secrets: z.record(z.string(), z.string()).optional(),
  matrix: JsonObjectSchema.optional(),
  needs: z.record(z.string(), NeedSchema).optional(),
  inputs: JsonObjectSchema.optional(),
  runner: JsonObjectSchema.optional(),
  job: JsonObjectSchema.optional(),
  strategy: JsonObjectSchema.optional(),
});
/** @see ActionsContextsSchema */
export type ActionsContexts = z.infer<typeof ActionsContextsSchema>;

// The variables every Actions step sees, from the `github` context.
const GITHUB_VARIABLES: readonly (readonly [string, string])[] = [
  ["GITHUB_ACTOR", "actor"],
  ["GITHUB_ACTOR_ID", "actor_id"],
  ["GITHUB_API_URL", "api_url"],
  ["GITHUB_BASE_REF", "base_ref"],
  ["GITHUB_EVENT_NAME", "event_name"],
  ["GITHUB_GRAPHQL_URL", "graphql_url"],
  ["GITHUB_HEAD_REF", "head_ref"],
  ["GITHUB_JOB", "job"],
  ["GITHUB_REF", "ref"],
  ["GITHUB_REF_NAME", "ref_name"],
  ["GITHUB_REF_PROTECTED", "ref_protected"],
  ["GITHUB_REF_TYPE", "ref_type"],
  ["GITHUB_REPOSITORY", "repository"],
  ["GITHUB_REPOSITORY_ID", "repository_id"],
  ["GITHUB_REPOSITORY_OWNER", "repository_owner"],
  ["GITHUB_RETENTION_DAYS", "retention_days"],
  ["GITHUB_RUN_ATTEMPT", "run_attempt"],
  ["GITHUB_RUN_ID", "run_id"],
  ["GITHUB_RUN_NUMBER", "run_number"],
  ["GITHUB_SERVER_URL", "server_url"],
  ["GITHUB_SHA", "sha"],
  ["GITHUB_TRIGGERING_ACTOR", "triggering_actor"],
  ["GITHUB_WORKFLOW", "workflow"],
  ["GITHUB_WORKFLOW_REF", "workflow_ref"],
  ["GITHUB_WORKFLOW_SHA", "workflow_sha"],
];

const RUNNER_VARIABLES: readonly (readonly [string, string])[] = [
  ["RUNNER_OS", "os"],
  ["RUNNER_ARCH", "arch"],
  ["RUNNER_NAME", "name"],
];

function scalarString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

/**
 * The default environment of an Actions step, from the contexts: `CI=true`,
 * `GITHUB_ACTIONS=true`, the `GITHUB_*` variables (GITHUB_SHA, GITHUB_REF, GITHUB_REPOSITORY…)
 * and `RUNNER_OS`/`RUNNER_ARCH`/`RUNNER_NAME`, for the values the contexts have. Not the token:
 * Actions does not export it either. (`GITHUB_WORKSPACE` and the file paths are the executor's.)
 *
 * @example
 *   defaultActionsEnv({ github: { sha: "abc", ref: "refs/heads/main" } });
 *   // { CI: "true", GITHUB_ACTIONS: "true", GITHUB_REF: "refs/heads/main", GITHUB_SHA: "abc" }
 */
export function defaultActionsEnv(contexts: ActionsContexts): Record<string, string> {
  const env: Record<string, string> = { CI: "true", GITHUB_ACTIONS: "true" };
  for (const [name, key] of GITHUB_VARIABLES) {
    const value = scalarString(contexts.github?.[key]);
    if (value !== undefined && value !== "") env[name] = value;
  }
  for (const [name, key] of RUNNER_VARIABLES) {
    const value = scalarString(contexts.runner?.[key]);
    if (value !== undefined && value !== "") env[name] = value;
  }
  return env;
}
