import type { CliContext } from "@solstice/cli-kit";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type ExitCode, formatError } from "@solstice/cli-kit";
import { SolsticeError, WorkflowError } from "@solstice/common";
import type { Command } from "commander";
import { translateWorkflowJob } from "../workflow/job-translation.ts";
import { checkWorkflowFile, jobSummaries, type LoadedWorkflow } from "../workflow/load-workflow.ts";
import { translationContextFor } from "../workflow/translation-context.ts";
import { resolveWorkflowPath } from "../workflow/workflow-file.ts";

/** What `validate --json` prints for one file. */
interface FileReport {
  file: string;
  format: string | null;
  valid: boolean;
  name: string | null;
  jobs: string[];
  errors: { line: number; column: number; code: string; message: string }[];
  warnings: { line: number; column: number; message: string }[];
  /** A problem that is not in the file itself (unreadable, unknown kind). */
  problem: string | null;
}

/** `cidev validate <file...>`: every error of every file, as `file:line:column: message`. */
export function registerValidate(program: Command, ctx: CliContext): void {
  program
    .command("validate")
    .summary("check workflow files; print every error as file:line:column: message")
    .description(
      "check workflow files (KDL .solstice/workflow.kdl, or Actions .github/workflows/*.yml, .forgejo/workflows/*.yml) " +
        "and report every error as file:line:column: message (exit 1 when any file is invalid)",
    )
    .argument(
      "<file...>",
      "workflow files (a directory means its .solstice/workflow.kdl or only Actions workflow)",
    )
    .option("--json", "print one JSON report per file (an array) instead of text")
    .action(
      ctx.action(async (files: string[], opts: { json?: boolean }) => {
        const reports: FileReport[] = [];
        for (const arg of files) reports.push(await validateOne(arg));
        if (opts.json === true) {
          ctx.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
        } else {
          for (const r of reports) printReport(ctx, r);
        }
        return worst(reports);
      }),
    );
}

function worst(reports: readonly FileReport[]): ExitCode {
  if (reports.some((r) => r.problem !== null)) return EXIT_USAGE;
  return reports.every((r) => r.valid) ? EXIT_OK : EXIT_FAILED;
}

function printReport(ctx: CliContext, r: FileReport): void {
  if (r.problem !== null) {
    ctx.stderr.write(r.problem);
    return;
  }
  for (const w of r.warnings) ctx.stderr.write(`${r.file}:${w.line}:${w.column}: warning: ${w.message}\n`);
  if (r.valid) {
    const name = r.name === null ? "" : ` '${r.name}'`;
    const count = r.jobs.length === 1 ? "1 job" : `${r.jobs.length} jobs`;
    ctx.stdout.write(
      `OK: ${r.file}: ${r.format === "kdl" ? "KDL" : "Actions"} workflow${name} with ${count}\n`,
    );
    return;
  }
  for (const e of r.errors) ctx.stdout.write(`${r.file}:${e.line}:${e.column}: ${e.message}\n`);
  const count = r.errors.length === 1 ? "1 error" : `${r.errors.length} errors`;
  ctx.stderr.write(`${r.file}: ${count}\n`);
}

async function validateOne(arg: string): Promise<FileReport> {
  const report: FileReport = {
    file: arg,
    format: null,
    valid: false,
    name: null,
    jobs: [],
    errors: [],
    warnings: [],
    problem: null,
  };
  try {
    const file = await resolveWorkflowPath(arg);
    report.file = file;
    const check = await checkWorkflowFile(file);
    report.format = check.format;
    const errors: WorkflowError[] = [...check.errors];
    if (check.workflow !== undefined) {
      report.name = check.workflow.workflow.name ?? null;
      report.jobs = jobSummaries(check.workflow).map((j) => j.id);
      if (check.workflow.format === "actions")
        errors.push(...(await translateEveryJob(check.workflow, report)));
    }
    errors.sort((a, b) => a.line - b.line || a.column - b.column);
    report.errors = errors.map((e) => ({ line: e.line, column: e.column, code: e.code, message: e.detail }));
    report.valid = errors.length === 0;
  } catch (error) {
    if (!(error instanceof SolsticeError)) throw error;
    report.problem = formatError("cidev validate", error);
  }
  return report;
}

/**
 * An Actions workflow that parses may still fail where a runner translates it (a job-level
 * expression, a reusable workflow call): translate every job as a runner would, collecting those
 * errors and the warnings (unsupported `uses:`, `container:`...).
 */
async function translateEveryJob(loaded: LoadedWorkflow, report: FileReport): Promise<WorkflowError[]> {
  const errors: WorkflowError[] = [];
  const base = await translationContextFor(loaded.file, {});
  for (const job of jobSummaries(loaded)) {
    try {
      const t = translateWorkflowJob(loaded, { ...base, jobId: job.id });
      for (const w of t.warnings)
        report.warnings.push({ line: w.line, column: w.column, message: w.message });
    } catch (error) {
      if (error instanceof WorkflowError) errors.push(error);
      else throw error;
    }
  }
  return errors;
}
