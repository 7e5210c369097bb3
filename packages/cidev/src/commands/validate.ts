import { access } from "node:fs/promises";
import type { CliContext } from "@solstice/cli-kit";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type ExitCode, formatError } from "@solstice/cli-kit";
import {
  type ImageMap,
  KdlSyntaxError,
  loadImageMap,
  resolveLabel,
  SolsticeError,
  servedLabels,
  WorkflowError,
} from "@solstice/common";
import { type Command, Option } from "commander";
import { DEFAULT_IMAGE_MAPS, imageMapPath } from "../run/image-map-location.ts";
import { jobMatrixRows, translateWorkflowJob } from "../workflow/job-translation.ts";
import { checkWorkflowFile, jobSummaries, type LoadedWorkflow } from "../workflow/load-workflow.ts";
import { translationContextFor } from "../workflow/translation-context.ts";
import { resolveWorkflowPath } from "../workflow/workflow-file.ts";

/** The second line of a KDL syntax error when both KDL versions were tried: where the other stops. */
interface ErrorNote {
  line: number;
  column: number;
  message: string;
}

/** What `validate --json` prints for one file. */
interface FileReport {
  file: string;
  format: string | null;
  /** For a KDL file, the KDL version it was read as (or whose syntax error is reported). */
  kdl_version: number | null;
  valid: boolean;
  name: string | null;
  jobs: string[];
  errors: { line: number; column: number; code: string; message: string; note?: ErrorNote }[];
  warnings: { line: number; column: number; message: string }[];
  /** A problem that is not in the file itself (unreadable, unknown kind). */
  problem: string | null;
}

/** The image map the label check reads, as `cidev run` finds it; undefined when there is none to read. */
interface LabelCheck {
  readonly path: string;
  readonly map: ImageMap;
}

interface ValidateOptions {
  json?: boolean;
  kdlVersion?: boolean;
  strict?: boolean;
  imageMap?: string;
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
    .option("--kdl-version", "say which KDL version (1 or 2) each KDL file was read as")
    .option(
      "--strict",
      "warnings are errors: an unsupported uses: (a step that will fail), a label the image map does not serve, ignored keys",
    )
    .addOption(
      new Option("--image-map <yaml>", "the image map whose labels jobs must ask for, as cidev run reads it")
        .env("ORCH_CONFIG")
        .default(undefined, "the checkout's examples/orchestrator-image-map.yaml"),
    )
    .action(
      ctx.action(async (files: string[], opts: ValidateOptions) => {
        const labels = await labelCheck(opts.imageMap, ctx.env);
        const reports: FileReport[] = [];
        for (const arg of files) reports.push(await validateOne(arg, labels, opts.strict === true));
        if (opts.json === true) {
          ctx.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
        } else {
          for (const r of reports) printReport(ctx, r, opts.kdlVersion === true);
        }
        return worst(reports);
      }),
    );
}

function worst(reports: readonly FileReport[]): ExitCode {
  if (reports.some((r) => r.problem !== null)) return EXIT_USAGE;
  return reports.every((r) => r.valid) ? EXIT_OK : EXIT_FAILED;
}

function printReport(ctx: CliContext, r: FileReport, showKdlVersion: boolean): void {
  if (r.problem !== null) {
    ctx.stderr.write(r.problem);
    return;
  }
  const version = showKdlVersion && r.kdl_version !== null ? `KDL ${r.kdl_version}` : undefined;
  for (const w of r.warnings) ctx.stderr.write(`${r.file}:${w.line}:${w.column}: warning: ${w.message}\n`);
  if (r.valid) {
    const name = r.name === null ? "" : ` '${r.name}'`;
    const count = r.jobs.length === 1 ? "1 job" : `${r.jobs.length} jobs`;
    const readAs = version === undefined ? "" : `, read as ${version}`;
    ctx.stdout.write(
      `OK: ${r.file}: ${r.format === "kdl" ? "KDL" : "Actions"} workflow${name} with ${count}${readAs}\n`,
    );
    return;
  }
  for (const e of r.errors) {
    ctx.stdout.write(`${r.file}:${e.line}:${e.column}: ${e.message}\n`);
    if (e.note !== undefined)
      ctx.stdout.write(`${r.file}:${e.note.line}:${e.note.column}: note: ${e.note.message}\n`);
  }
  const count = r.errors.length === 1 ? "1 error" : `${r.errors.length} errors`;
  ctx.stderr.write(`${r.file}: ${count}${version === undefined ? "" : ` (read as ${version})`}\n`);
}

/** The `note:` line of a KDL syntax error tried as both versions, if it has one. */
function noteOf(error: WorkflowError): ErrorNote | undefined {
  if (!(error instanceof KdlSyntaxError) || error.note === undefined || error.otherVersion === undefined)
    return undefined;
  return { line: error.otherVersion.line, column: error.otherVersion.column, message: error.note };
}

/**
 * The image map to check labels against: `--image-map`, ORCH_CONFIG, else the checkout's or the
 * installed package's map (skipped when neither exists: then no label is checked).
 * @throws ImageMapError for a map named but unreadable or invalid
 */
async function labelCheck(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Promise<LabelCheck | undefined> {
  const path = imageMapPath(flag, env);
  if (
    DEFAULT_IMAGE_MAPS.includes(path) &&
    !(await access(path).then(
      () => true,
      () => false,
    ))
  )
    return undefined;
  return { path, map: await loadImageMap(path) };
}

async function validateOne(
  arg: string,
  labels: LabelCheck | undefined,
  strict: boolean,
): Promise<FileReport> {
  const report: FileReport = {
    file: arg,
    format: null,
    kdl_version: null,
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
    report.kdl_version = check.kdlVersion ?? null;
    const errors: WorkflowError[] = [...check.errors];
    if (check.workflow !== undefined) {
      report.name = check.workflow.workflow.name ?? null;
      report.jobs = jobSummaries(check.workflow).map((j) => j.id);
      errors.push(...(await translateEveryJob(check.workflow, report, labels)));
    }
    report.warnings.sort((a, b) => a.line - b.line || a.column - b.column);
    if (strict) {
      // Under --strict a warning is an error, reported once, as one.
      for (const w of report.warnings.splice(0)) {
        errors.push(
          new WorkflowError(
            "WORKFLOW_STRICT",
            { file, line: w.line, column: w.column },
            `${w.message} (--strict)`,
          ),
        );
      }
    }
    errors.sort((a, b) => a.line - b.line || a.column - b.column);
    report.errors = errors.map((e) => {
      const note = noteOf(e);
      const entry = { line: e.line, column: e.column, code: e.code, message: e.detail };
      return note === undefined ? entry : { ...entry, note };
    });
    report.valid = errors.length === 0;
  } catch (error) {
    if (!(error instanceof SolsticeError)) throw error;
    report.problem = formatError("cidev validate", error);
  }
  return report;
}

/**
 * A workflow that parses may still fail where a runner translates it (a job-level expression, a
 * reusable workflow call): translate every job and every matrix row as a runner would, collecting
 * those errors and the warnings (unsupported `uses:`, `container:`...), and check each row's
 * label against the image map.
 */
async function translateEveryJob(
  loaded: LoadedWorkflow,
  report: FileReport,
  labels: LabelCheck | undefined,
): Promise<WorkflowError[]> {
  const errors: WorkflowError[] = [];
  const seen = new Set<string>();
  const warn = (line: number, column: number, message: string) => {
    const key = `${line}:${column}:${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    report.warnings.push({ line, column, message });
  };
  const base = await translationContextFor(loaded.file, {});
  for (const job of jobSummaries(loaded)) {
    try {
      for (const matrix of jobMatrixRows(loaded, job.id, { ...base, jobId: job.id })) {
        const t = translateWorkflowJob(loaded, { ...base, jobId: job.id, run: { matrix } });
        for (const w of t.warnings) warn(w.line, w.column, w.message);
        if (labels === undefined) continue;
        const label = t.fields.runs_on ?? undefined;
        if (resolveLabel(labels.map, label) === undefined) {
          const at = labelLocation(loaded, job.id);
          warn(
            at.line,
            at.column,
            `runs-on "${label ?? labels.map.defaultLabel}" is not served by the image map ${labels.path} ` +
              `(it serves: ${servedLabels(labels.map).join(", ") || "nothing"}); cidev run would refuse it`,
          );
        }
      }
    } catch (error) {
      if (error instanceof WorkflowError) errors.push(error);
      else throw error;
    }
  }
  return errors;
}

/** Where a job says its label (`runs-on:`), else where the job starts. */
function labelLocation(loaded: LoadedWorkflow, jobId: string): { line: number; column: number } {
  if (loaded.format === "kdl") return loaded.workflow.jobsById.get(jobId)!.location;
  const job = loaded.workflow.jobs.find((j) => j.id === jobId)!;
  return job.runsOn?.at ?? job.at;
}
