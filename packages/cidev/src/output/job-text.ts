import type { ActionsStep, JobStep } from "@solstice/common";
import { formatTranslationWarning } from "@solstice/common";
import { actionsValueText } from "../workflow/actions-value-text.ts";
import type { JobTranslation } from "../workflow/job-translation.ts";
import { type JobSummary, type LoadedWorkflow, workflowName } from "../workflow/load-workflow.ts";

// The plain-text forms of `cidev list`, `show` and `translate` (pure: tested by snapshot). The
// layout is the original cidev's: `- Step i/n: name` then indented `key: value` lines.

const INDENT = "  ";

/** `id (runs_on: label)` per job, as the original printed them; the workflow's name first. */
export function formatJobList(loaded: LoadedWorkflow, jobs: readonly JobSummary[]): string {
  const name = workflowName(loaded);
  const lines = name === undefined ? [] : [`Workflow: ${name}`];
  for (const job of jobs) {
    const runsOn = job.runsOn === undefined ? "" : ` (runs_on: ${job.runsOn})`;
    const title = job.name === undefined || job.name === job.id ? "" : ` — ${job.name}`;
    lines.push(`${job.id}${runsOn}${title}`);
  }
  return `${lines.join("\n")}\n`;
}

/** `key: value`, continuation lines of a multi-line value indented under the value. */
function field(key: string, value: string): string {
  const pad = " ".repeat(INDENT.length + key.length + 2);
  const text = value.replace(/\n$/, "").split("\n").join(`\n${pad}`);
  return `${INDENT}${key}: ${text}`;
}

function envText(env: Readonly<Record<string, string>> | undefined): string | undefined {
  if (env === undefined || Object.keys(env).length === 0) return undefined;
  return Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

/** A step's lines: header, then what it runs and how. */
function stepLines(step: JobStep, index: number, total: number, uses?: string): string[] {
  const lines = [`- Step ${index + 1}/${total}: ${step.name ?? "(unnamed)"}`];
  if (uses !== undefined) lines.push(field("uses", uses));
  lines.push(field("run", step.run));
  if (step.if !== undefined && step.if !== null) lines.push(field("if", step.if));
  if (step.shell !== undefined && step.shell !== null) lines.push(field("shell", step.shell));
  if (step.working_directory !== undefined && step.working_directory !== null)
    lines.push(field("working_directory", step.working_directory));
  if (step.timeout_seconds !== undefined && step.timeout_seconds !== null)
    lines.push(field("timeout", `${step.timeout_seconds}s`));
  if (step.continue_on_error === true) lines.push(field("continue_on_error", "true"));
  const env = envText(step.env ?? undefined);
  if (env !== undefined) lines.push(field("env", env));
  if (
    step.runtime_expressions !== undefined &&
    step.runtime_expressions !== null &&
    step.runtime_expressions.length > 0
  )
    lines.push(field("evaluated when reached", step.runtime_expressions.join(", ")));
  return lines;
}

/** An Actions step as written in the file (before translation). */
function actionsStepLines(step: ActionsStep, total: number): string[] {
  const name = actionsValueText(step.name) ?? (step.uses === undefined ? undefined : `Run ${step.uses}`);
  const lines = [`- Step ${step.index + 1}/${total}: ${name ?? "(unnamed)"}`];
  if (step.id !== undefined) lines.push(field("id", step.id));
  if (step.uses !== undefined) lines.push(field("uses", step.uses));
  const withText = actionsValueText(step.with);
  if (withText !== undefined) lines.push(field("with", withText));
  const run = actionsValueText(step.run);
  if (run !== undefined) lines.push(field("run", run));
  if (step.if !== "success()") lines.push(field("if", step.if));
  for (const [key, value] of [
    ["shell", step.shell],
    ["working-directory", step.workingDirectory],
    ["timeout-minutes", step.timeoutMinutes],
    ["continue-on-error", step.continueOnError],
    ["env", step.env],
  ] as const) {
    const text = actionsValueText(value);
    if (text !== undefined) lines.push(field(key, text));
  }
  return lines;
}

/** `cidev show`: the job's steps with their names and commands, as the file has them. */
export function formatJobSteps(loaded: LoadedWorkflow, jobId: string): string {
  const lines = [`Job: ${jobId}`];
  if (loaded.format === "kdl") {
    const job = loaded.workflow.jobsById.get(jobId)!;
    if (job.runs_on !== undefined) lines.push(`runs_on: ${job.runs_on}`);
    const jobEnv = envText(job.env);
    if (jobEnv !== undefined) lines.push(`env: ${jobEnv}`);
    if (job.timeout_seconds !== undefined) lines.push(`timeout: ${job.timeout_seconds}s`);
    if (job.debug_ssh === true) lines.push("debug_ssh: true");
    lines.push(`kdl_version: ${loaded.kdlVersion}`);
    job.steps.forEach((step, i) => {
      const jobStep: JobStep = {
        run: step.run,
        ...(step.name === undefined ? {} : { name: step.name }),
        ...(step.if === undefined ? {} : { if: step.if }),
        ...(step.shell === undefined ? {} : { shell: step.shell }),
        ...(step.working_directory === undefined ? {} : { working_directory: step.working_directory }),
        ...(step.timeout_seconds === undefined ? {} : { timeout_seconds: step.timeout_seconds }),
        ...(step.continue_on_error === undefined ? {} : { continue_on_error: step.continue_on_error }),
        ...(Object.keys(step.env).length === 0 ? {} : { env: step.env }),
      };
      lines.push(...stepLines(jobStep, i, job.steps.length));
    });
  } else {
    const job = loaded.workflow.jobs.find((j) => j.id === jobId)!;
    const name = actionsValueText(job.name);
    if (name !== undefined) lines.push(`name: ${name}`);
    const runsOn = actionsValueText(job.runsOn);
    if (runsOn !== undefined) lines.push(`runs_on: ${runsOn}`);
    if (job.needs.length > 0) lines.push(`needs: ${job.needs.join(", ")}`);
    if (job.if !== "success()") lines.push(`if: ${job.if}`);
    for (const step of job.steps) lines.push(...actionsStepLines(step, job.steps.length));
  }
  return `${lines.join("\n")}\n`;
}

/** `cidev translate` without `--json`: the request's fields and steps as the orchestrator gets them. */
export function formatTranslation(translation: JobTranslation): string {
  const { fields } = translation;
  const lines = [`Job: ${translation.jobId}`];
  if (translation.name !== translation.jobId) lines.push(`name: ${translation.name}`);
  if (!translation.shouldRun) lines.push("if: false (a runner would report this job skipped)");
  lines.push(`workflow_path: ${fields.workflow_path ?? "(none)"}`);
  lines.push(`runs_on: ${fields.runs_on ?? "(the orchestrator's default label)"}`);
  if (fields.labels !== undefined && fields.labels !== null && fields.labels.length > 0)
    lines.push(`labels: ${fields.labels.join(", ")}`);
  const env = envText(fields.env ?? undefined);
  if (env !== undefined) lines.push(`env: ${env}`);
  if (fields.timeout_seconds !== undefined && fields.timeout_seconds !== null)
    lines.push(`timeout: ${fields.timeout_seconds}s`);
  if (fields.debug_ssh === true) lines.push("debug_ssh: true");
  if (fields.mask !== undefined && fields.mask !== null && fields.mask.length > 0)
    lines.push(`mask: ${fields.mask.length} value(s)`);
  const steps = fields.steps ?? [];
  steps.forEach((step, i) => {
    lines.push(...stepLines(step, i, steps.length, translation.uses[i]));
  });
  return `${lines.join("\n")}\n`;
}

/** The translation warnings, one `file:line:column: warning: …` line each. */
export function formatWarnings(translation: JobTranslation): string {
  return translation.warnings.map((w) => `${formatTranslationWarning(w)}\n`).join("");
}

/**
 * `cidev translate --json`: the JobRequest fields (without the values to mask, which may be
 * secrets: only their count) and the warnings.
 */
export function translationJson(translation: JobTranslation): Record<string, unknown> {
  const { mask, ...fields } = translation.fields;
  return {
    job: translation.jobId,
    name: translation.name,
    should_run: translation.shouldRun,
    request: { ...fields, ...(mask === undefined || mask === null ? {} : { mask: mask.map(() => "***") }) },
    warnings: translation.warnings.map((w) => ({
      file: w.file,
      line: w.line,
      column: w.column,
      message: w.message,
      ...(w.step === undefined ? {} : { step: w.step }),
    })),
  };
}
