import type { ActionsValue } from "@solstice/common";
import { actionsValueText } from "../workflow/actions-value-text.ts";
import type { LoadedWorkflow } from "../workflow/load-workflow.ts";

// `cidev show --json`: the same job as `formatJobSteps` prints, as one JSON object (pure). Values
// are as the file writes them (Actions expressions as `${{ … }}` text): what `show` shows, not what
// a runner would run (that is `cidev translate --json`). Absent fields are null, so scripts can
// read every key of every step without checking for it.

/** A step of `cidev show --json`. */
export interface ShownStep {
  readonly index: number;
  readonly id: string | null;
  readonly name: string | null;
  readonly uses: string | null;
  readonly with: string | null;
  readonly run: string | null;
  readonly if: string | null;
  readonly shell: string | null;
  readonly working_directory: string | null;
  readonly timeout: string | null;
  readonly continue_on_error: string | null;
  readonly env: Readonly<Record<string, string>> | string | null;
}

/** What `cidev show --json` prints for a job. */
export interface ShownJob {
  readonly file: string;
  readonly format: "kdl" | "actions";
  readonly kdl_version: 1 | 2 | null;
  readonly job: string;
  readonly name: string | null;
  readonly runs_on: string | null;
  readonly needs: readonly string[];
  readonly if: string | null;
  readonly env: Readonly<Record<string, string>> | string | null;
  readonly timeout: string | null;
  readonly steps: readonly ShownStep[];
}

const text = (value: ActionsValue | undefined): string | null => actionsValueText(value) ?? null;

/**
 * The job `jobId` (already checked to exist, see `selectJob`) as `cidev show --json` prints it.
 *
 * @example
 *   jobStepsJson(loaded, "build").steps[0]; // { index: 0, name: "Format", run: "cargo fmt --check", … }
 */
export function jobStepsJson(loaded: LoadedWorkflow, jobId: string): ShownJob {
  if (loaded.format === "kdl") {
    const job = loaded.workflow.jobsById.get(jobId)!;
    return {
      file: loaded.file,
      format: "kdl",
      kdl_version: loaded.kdlVersion,
      job: jobId,
      name: null,
      runs_on: job.runs_on ?? null,
      needs: [],
      if: null,
      env: Object.keys(job.env ?? {}).length === 0 ? null : { ...job.env },
      timeout: job.timeout_seconds === undefined ? null : `${job.timeout_seconds}s`,
      steps: job.steps.map((step, index) => ({
        index,
        id: null,
        name: step.name ?? null,
        uses: null,
        with: null,
        run: step.run,
        if: step.if ?? null,
        shell: step.shell ?? null,
        working_directory: step.working_directory ?? null,
        timeout: step.timeout_seconds === undefined ? null : `${step.timeout_seconds}s`,
        continue_on_error: step.continue_on_error === undefined ? null : String(step.continue_on_error),
        env: Object.keys(step.env).length === 0 ? null : { ...step.env },
      })),
    };
  }
  const job = loaded.workflow.jobs.find((j) => j.id === jobId)!;
  return {
    file: loaded.file,
    format: "actions",
    kdl_version: null,
    job: jobId,
    name: text(job.name),
    runs_on: text(job.runsOn),
    needs: [...job.needs],
    if: job.if,
    env: text(job.env),
    timeout: job.timeoutMinutes === undefined ? null : `${text(job.timeoutMinutes)}m`,
    steps: job.steps.map((step) => ({
      index: step.index,
      id: step.id ?? null,
      name: text(step.name) ?? (step.uses === undefined ? null : `Run ${step.uses}`),
      uses: step.uses ?? null,
      with: text(step.with),
      run: text(step.run),
      if: step.if,
      shell: text(step.shell),
      working_directory: text(step.workingDirectory),
      timeout: step.timeoutMinutes === undefined ? null : `${text(step.timeoutMinutes)}m`,
      continue_on_error: text(step.continueOnError),
      env: text(step.env),
    })),
  };
}
