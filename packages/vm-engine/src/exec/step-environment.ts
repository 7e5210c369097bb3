import type { JobRequest, JobStep } from "@solstice/common";
import type { StepFileCommands } from "./file-commands.ts";
import { type GuestLayout, runnerTempDir } from "./guest-layout.ts";

// A step's environment, as the Actions runner layers it: the job's env, then what earlier steps
// wrote to GITHUB_ENV (over the job's), then the step's own env (over both); Solstice's own
// variables and the step's file-command paths are always Solstice's.

/** What {@link stepEnvironment} layers. */
export interface StepEnvironmentInput {
  readonly request: Pick<JobRequest, "request_id" | "commit_sha" | "env">;
  readonly layout: GuestLayout;
  /** A workflow job's env (the KDL fallback), below the request's. */
  readonly planEnv?: Readonly<Record<string, string>>;
  readonly step: Pick<JobStep, "env">;
  readonly index: number;
  /** What earlier steps wrote to GITHUB_ENV. */
  readonly githubEnv?: Readonly<Record<string, string>>;
  readonly fileCommands: StepFileCommands;
}

/**
 * A step's environment, later entries winning: defaults (CI, SOLSTICE_*, GITHUB_WORKSPACE,
 * RUNNER_TEMP), the workflow job's env, the request's env, GITHUB_ENV so far, the step's env,
 * then the step index and its file-command paths (GITHUB_OUTPUT, GITHUB_ENV, ...).
 */
export function stepEnvironment(input: StepEnvironmentInput): Record<string, string> {
  return {
    CI: "true",
    SOLSTICE: "true",
    SOLSTICE_REQUEST_ID: input.request.request_id,
    SOLSTICE_COMMIT_SHA: input.request.commit_sha,
    SOLSTICE_WORKDIR: input.layout.workspace,
    GITHUB_WORKSPACE: input.layout.workspace,
    RUNNER_TEMP: runnerTempDir(input.layout),
    ...(input.planEnv ?? {}),
    ...(input.request.env ?? {}),
    ...(input.githubEnv ?? {}),
    ...(input.step.env ?? {}),
    SOLSTICE_STEP: String(input.index),
    ...input.fileCommands,
  };
}
