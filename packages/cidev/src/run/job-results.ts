import {
  type JobConclusion,
  type JobStep,
  type Need,
  renderStepTemplate,
  type StepOutcome,
  type StepRecord,
} from "@solstice/common";

// What one job of `cidev run --all-jobs` leaves for the jobs that need it, as a forge computes
// it: its `outputs:` rendered over its steps' outputs, and one result over all its matrix rows
// (a failed row fails the job). Pure.

/** How one run (a job, or one matrix row of it) ended for `needs`; `skipped` when its `if:` said so. */
export type RunResult = JobConclusion | "skipped";

/**
 * The job's `outputs:` once its steps are done: each template rendered over the steps' outputs
 * (by step `id`); one that cannot be rendered is left out, as a forge does.
 */
export function renderJobOutputs(
  templates: Readonly<Record<string, string>>,
  steps: readonly JobStep[],
  stepOutputs: ReadonlyMap<number, Readonly<Record<string, string>>>,
  stepConclusions: ReadonlyMap<number, string>,
  conclusion: JobConclusion,
): Record<string, string> {
  const records: Record<string, StepRecord> = {};
  for (const [index, step] of steps.entries()) {
    if (step.id === undefined) continue;
    const outcome = stepConclusions.get(index) as StepOutcome | undefined;
    const outputs = stepOutputs.get(index);
    records[step.id] = {
      ...(outputs === undefined ? {} : { outputs }),
      ...(outcome === undefined ? {} : { outcome, conclusion: outcome }),
    };
  }
  const out: Record<string, string> = {};
  for (const [key, template] of Object.entries(templates)) {
    const rendered = renderStepTemplate(template, { status: conclusion, steps: records });
    if ("value" in rendered) out[key] = rendered.value;
  }
  return out;
}

/** Several results as one: `failure` if any failed, else `cancelled` if any was, else `success` if any ran, else `skipped` (jobs not started count as nothing). */
export function combinedResult(results: readonly string[]): RunResult {
  if (results.includes("failure")) return "failure";
  if (results.includes("cancelled")) return "cancelled";
  if (results.includes("success")) return "success";
  return "skipped";
}

/**
 * A job's `needs` entry from its runs: `failure` if any row failed, else `cancelled` if any was,
 * else `success` if any ran, else `skipped`; outputs merged (a later row wins, as on a forge).
 */
export function needFromRuns(
  runs: readonly { readonly result: RunResult; readonly outputs: Readonly<Record<string, string>> }[],
): Need & { result: RunResult } {
  const result = combinedResult(runs.map((r) => r.result));
  const outputs: Record<string, string> = {};
  for (const run of runs) Object.assign(outputs, run.outputs);
  return { result, outputs };
}
