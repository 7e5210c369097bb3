import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { CliContext } from "@solstice/cli-kit";
import {
  EXIT_FAILED,
  EXIT_OK,
  type ExitCode,
  logDestination,
  logFormatFor,
  terminalStyle,
} from "@solstice/cli-kit";
import {
  createLogger,
  type LogLevel,
  loadImageMap,
  logLevelFromEnv,
  type MatrixCombination,
  type Need,
  newJobRequest,
  otlpSettings,
  resolveLabel,
  servedLabels,
  startTracing,
} from "@solstice/common";
import { MAX_DEBUG_SSH_TTL_SECS } from "@solstice/orchestrator";
import { ensureImage, isImagePresent, terminalProgress } from "@solstice/vm-engine";
import { type Command, InvalidArgumentError, Option } from "commander";
import { assignments, KEY_NAME, VARIABLE_NAME } from "../cli/assignment.ts";
import { RunLabelError } from "../errors.ts";
import { formatWarnings } from "../output/job-text.ts";
import { imageMapPath } from "../run/image-map-location.ts";
import { EXIT_INTERRUPTED, Interrupts, unlessInterrupted } from "../run/interrupts.ts";
import { orderJobs } from "../run/job-order.ts";
import { combinedResult, needFromRuns, type RunResult, renderJobOutputs } from "../run/job-results.ts";
import { cidevOwner, LocalSession } from "../run/local-session.ts";
import { selectMatrixRows } from "../run/matrix-rows.ts";
import { openRepositorySource, type RepositorySource } from "../run/repository-source.ts";
import { runContextsFrom } from "../run/run-inputs.ts";
import { HumanRunReporter, JsonRunReporter, type RunReporter, type RunSummary } from "../run/run-reporter.ts";
import {
  jobMatrixRows,
  jobNeeds,
  type RunContexts,
  selectJob,
  translateWorkflowJob,
} from "../workflow/job-translation.ts";
import { type LoadedWorkflow, loadWorkflowFile } from "../workflow/load-workflow.ts";
import { resolveWorkflowPath } from "../workflow/workflow-file.ts";

interface RunOptions {
  job?: string[];
  allJobs?: boolean;
  keepGoing?: boolean;
  matrix: Record<string, string>;
  secret: Record<string, string>;
  secretFile?: string[];
  var: Record<string, string>;
  varFile?: string[];
  env: Record<string, string>;
  envFile?: string[];
  input: Record<string, string>;
  event?: string;
  eventFile?: string;
  json?: boolean;
  imageMap?: string;
  runsOn?: string;
  keepOnFailure?: boolean;
  keepFor: number;
  repo?: string;
  sha?: string;
  color: boolean;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_DEBUG_SSH_TTL_SECS) {
    throw new InvalidArgumentError(`expected whole seconds from 1 to ${MAX_DEBUG_SSH_TTL_SECS}`);
  }
  return n;
}

function collect(value: string, previous: string[] | undefined): string[] {
  if ((previous?.length ?? 0) >= 64) throw new InvalidArgumentError("at most 64 of this flag");
  return [...(previous ?? []), value];
}

/**
 * `cidev run <file>`: runs jobs for real in VMs on this machine, one at a time, through the
 * orchestrator's embedded single-node mode (in-process queue, PGlite), with the repository served
 * to the guest by `git daemon`. The exit code follows the jobs' results.
 */
export function registerRun(program: Command, ctx: CliContext): void {
  program
    .command("run")
    .summary("run jobs for real in local VMs (embedded orchestrator); exit code follows the jobs")
    .description(
      "Run a workflow's jobs for real in VMs on this machine, one at a time, through the orchestrator's " +
        "embedded single-node mode (no broker, no database server). The guest checks out the git " +
        "repository holding the file: HEAD when the work tree is clean, else a snapshot of the work tree " +
        "(uncommitted changes included), served by `git daemon` on 127.0.0.1. Every matrix row of a job " +
        "runs unless --matrix chooses. The log streams live; exit 0 when every job succeeds (or is " +
        "skipped by its if:), 1 when one fails or is cancelled, 2 when it cannot start, 130 after Ctrl-C. " +
        "Ctrl-C cancels the job (twice: stops at once). Service logs: LOG_LEVEL (default warn).",
    )
    .argument("<file>", "workflow file (KDL or Actions YAML), or a directory holding one (examples/hello)")
    .option(
      "-j, --job <id>",
      "a job to run (repeatable; may be left out when the workflow has one job)",
      collect,
    )
    .option("-a, --all-jobs", "run every job, each after the jobs it needs, their outputs passed along")
    .option("--keep-going", "after a job fails, run the others all the same (those that need it are skipped)")
    .addOption(
      new Option("-m, --matrix <key=value>", "run only the matrix rows with this value (repeatable)")
        .argParser(assignments(KEY_NAME))
        .default({}, "every row"),
    )
    .addOption(
      new Option("-s, --secret <NAME=VALUE>", "a secret (secrets.NAME), masked in the output (repeatable)")
        .argParser(assignments(VARIABLE_NAME))
        .default({}, "none"),
    )
    .option("--secret-file <file>", "secrets from a dotenv file, e.g. .secrets (repeatable)", collect)
    .addOption(
      new Option("--var <NAME=VALUE>", "a configuration variable (vars.NAME) (repeatable)")
        .argParser(assignments(VARIABLE_NAME))
        .default({}, "none"),
    )
    .option("--var-file <file>", "variables from a dotenv file (repeatable)", collect)
    .addOption(
      new Option("--env <NAME=VALUE>", "a variable for every step, below the workflow's env (repeatable)")
        .argParser(assignments(VARIABLE_NAME))
        .default({}, "none"),
    )
    .option("--env-file <file>", "step variables from a dotenv file (repeatable)", collect)
    .option(
      "-e, --event <name>",
      "github.event_name: push, pull_request, workflow_dispatch... (default: workflow_dispatch)",
    )
    .option("--event-file <payload.json>", "github.event: the event's payload (JSON)")
    .addOption(
      new Option("-i, --input <name=value>", "a workflow_dispatch input (inputs.name) (repeatable)")
        .argParser(assignments(KEY_NAME))
        .default({}, "none"),
    )
    .option("--json", "one JSON object per line: run_started, each job event, run_skipped, then a summary")
    .addOption(
      new Option("--image-map <yaml>", "image map: labels and their images (docs/images.md)")
        .env("ORCH_CONFIG")
        .default(undefined, "the checkout's examples/orchestrator-image-map.yaml"),
    )
    .option(
      "--runs-on <label>",
      "the image label to run on (default: the job's runs_on, else the map's default)",
    )
    .option(
      "--keep-on-failure",
      "if a job fails, keep its VM up and print the SSH command, until Ctrl-C or --keep-for",
    )
    .addOption(
      new Option("--keep-for <seconds>", "how long --keep-on-failure keeps the VM (at most 1800)")
        .env("DEBUG_SSH_TTL_SECS")
        .argParser(seconds)
        .default(MAX_DEBUG_SSH_TTL_SECS),
    )
    .option("--repo <path|url>", "the repository to check out (default: the git repository holding the file)")
    .option(
      "--sha <sha>",
      "the commit to check out (default: HEAD, or the work tree's snapshot; a URL's HEAD)",
    )
    .option("--no-color", "no colours (also: NO_COLOR=1)")
    .action(
      ctx.action(async (arg: string, opts: RunOptions) => {
        // Ctrl-C is ours from here on: nothing slow has started yet.
        const interrupts = Interrupts.install();
        try {
          return await runCommand(ctx, arg, opts, interrupts);
        } finally {
          interrupts.dispose();
        }
      }),
    );
}

/** One job of the plan, with the matrix rows it runs. */
interface PlannedJob {
  readonly id: string;
  readonly rows: readonly MatrixCombination[];
}

/** Which jobs run, in order: `--all-jobs`, the `--job`s, or the only job. */
function plannedJobIds(loaded: LoadedWorkflow, opts: RunOptions): string[] {
  const jobs = jobNeeds(loaded);
  if (opts.allJobs === true) return orderJobs(jobs);
  if (opts.job !== undefined && opts.job.length > 0) return orderJobs(jobs, [...new Set(opts.job)]);
  return [selectJob(loaded, undefined)];
}

async function runCommand(
  ctx: CliContext,
  arg: string,
  opts: RunOptions,
  interrupts: Interrupts,
): Promise<ExitCode> {
  const style = terminalStyle(opts.json === true ? ctx.stderr : ctx.stdout, opts.json !== true && opts.color);
  const note = (line: string) => ctx.stderr.write(`${style.dim(line)}\n`);
  const reporter: RunReporter =
    opts.json === true ? new JsonRunReporter(ctx.stdout) : new HumanRunReporter(ctx.stdout, style);
  const file = await resolveWorkflowPath(arg);
  const loaded = await loadWorkflowFile(file);
  const mapPath = imageMapPath(opts.imageMap, ctx.env);
  const imageMap = await loadImageMap(mapPath);
  const run = await runContextsFrom(opts);
  const jobIds = plannedJobIds(loaded, opts);
  if (loaded.format === "kdl") warnKdlIgnores(opts, run, note);
  if (interrupts.count > 0) return EXIT_INTERRUPTED;

  const tempDir = await mkdtemp(join(tmpdir(), "cidev-"));
  let source: RepositorySource | undefined;
  let session: LocalSession | undefined;
  // OTEL_EXPORTER_OTLP_ENDPOINT set: each job's trace, from `cidev run` down to its steps, is exported.
  const tracing =
    otlpSettings(ctx.env) === undefined ? undefined : startTracing({ serviceName: "cidev", env: ctx.env });
  try {
    source = await openRepositorySource({ file, repo: opts.repo, sha: opts.sha, tempDir });
    if (interrupts.count > 0) return EXIT_INTERRUPTED;
    const base = {
      workflowPath: source.workflowPath,
      sha: source.commit,
      ref: source.ref,
      repository: source.repository,
      serverUrl: source.serverUrl,
      checkoutUrl: source.repoUrl,
      runsOn: opts.runsOn,
    };
    // The embedded services' own lines (the KVM warning...): short lines on a terminal, JSON else.
    const logger = createLogger({
      service: "cidev",
      level: serviceLogLevel(ctx.env),
      destination: logDestination(
        ctx.stderr,
        logFormatFor(ctx.stderr as { isTTY?: boolean }, ctx.env),
        style.dim,
      ),
    });
    const needs: Record<string, Need> = {};
    const summaries: RunSummary[] = [];
    let stopped = false;
    // Ctrl-C cut the run short (a job cancelled, or jobs not started); the Ctrl-C that ends a
    // kept VM's wait (--keep-on-failure) does not: the exit code is then the job's.
    let ctrlC = false;

    for (const [index, jobId] of jobIds.entries()) {
      const context = { ...base, jobId, run: { ...run, needs: { ...needs } } };
      const job: PlannedJob = {
        id: jobId,
        rows: selectMatrixRows(jobId, jobMatrixRows(loaded, jobId, context), opts.matrix, jobIds.length > 1),
      };
      const runs: { result: RunResult; outputs: Record<string, string> }[] = [];
      for (const matrix of job.rows) {
        if (stopped) {
          summaries.push(notStarted(jobId, matrix, "an earlier job failed"));
          continue;
        }
        if (interrupts.count > 0) {
          ctrlC = true;
          summaries.push(notStarted(jobId, matrix, "Ctrl-C"));
          continue;
        }
        const translation = translateWorkflowJob(loaded, {
          ...context,
          run: { ...context.run, ...(loaded.format === "actions" ? { matrix } : {}) },
        });
        ctx.stderr.write(formatWarnings(translation));
        if (!translation.shouldRun) {
          const why = Object.values(needs).some((n) => n.result !== "success")
            ? "a job it needs did not succeed"
            : "its if: condition is false";
          reporter.runSkipped(jobId, matrix, why);
          runs.push({ result: "skipped", outputs: {} });
          summaries.push({
            job: jobId,
            matrix,
            requestId: null,
            result: "skipped",
            reason: why,
            outputs: {},
          });
          continue;
        }
        const wanted = opts.runsOn ?? translation.fields.runs_on ?? undefined;
        const resolved = resolveLabel(imageMap, wanted);
        if (resolved === undefined)
          throw new RunLabelError(wanted ?? imageMap.defaultLabel, mapPath, servedLabels(imageMap));
        const { label, image } = resolved;
        if (!(await isImagePresent(image))) {
          note(`Fetching image ${label} from ${image.source}`);
          const fetched = await unlessInterrupted(
            interrupts.signal,
            ensureImage(image, { onProgress: terminalProgress(ctx.stderr) }),
            async () => undefined,
          );
          if (fetched === undefined) {
            ctrlC = true;
            summaries.push(notStarted(jobId, matrix, "Ctrl-C"));
            continue;
          }
        }
        session ??= await LocalSession.start({
          imageMap,
          imageMapPath: mapPath,
          stateDir: join(tempDir, "state"),
          keepForSecs: opts.keepFor,
          logger,
          interrupts,
          note,
        });
        if (session === undefined) {
          ctrlC = true;
          summaries.push(notStarted(jobId, matrix, "Ctrl-C"));
          continue;
        }
        const request = newJobRequest({
          source: "manual",
          repo_url: source.repoUrl,
          commit_sha: source.commit,
          owner: cidevOwner(hostname()),
          ...translation.fields,
          runs_on: label,
          debug_ssh: opts.keepOnFailure === true,
        });
        const steps = request.steps ?? [];
        reporter.runStarted({
          job: jobId,
          name: translation.name,
          matrix: translation.matrix,
          label,
          requestId: request.request_id,
          file,
          steps,
        });
        if (index === 0 && runs.length === 0) note(source.describe);
        const result = await session.run({
          request,
          image,
          keepOnFailure: opts.keepOnFailure === true,
          onEvent: (event) => reporter.event(event),
          onKeptVm: (vm, user) => reporter.keptVm(vm, user),
        });
        const outputs = renderJobOutputs(
          translation.outputs,
          steps,
          result.stepOutputs,
          result.stepConclusions,
          result.conclusion,
        );
        ctrlC ||= result.interrupted;
        runs.push({ result: result.conclusion, outputs });
        summaries.push({
          job: jobId,
          matrix: translation.matrix,
          requestId: request.request_id,
          result: result.conclusion,
          reason: result.reason ?? null,
          outputs,
        });
        if (result.conclusion !== "success" && opts.keepGoing !== true) stopped = true;
      }
      needs[jobId] = needFromRuns(runs);
    }

    const interrupted = ctrlC;
    const overall: RunResult | "interrupted" = interrupted
      ? "interrupted"
      : combinedResult(summaries.map((s) => s.result));
    reporter.summary(summaries, overall);
    if (interrupted) return EXIT_INTERRUPTED;
    return overall === "success" || overall === "skipped" ? EXIT_OK : EXIT_FAILED;
  } finally {
    await session?.stop();
    await source?.close();
    await rm(tempDir, { recursive: true, force: true, maxRetries: 3 });
    await tracing?.shutdown();
  }
}

function notStarted(job: string, matrix: MatrixCombination, why: string): RunSummary {
  return { job, matrix, requestId: null, result: "not_started", reason: why, outputs: {} };
}

/** A KDL workflow has no contexts: say which flags do nothing for it. */
function warnKdlIgnores(opts: RunOptions, run: RunContexts, note: (line: string) => void): void {
  const ignored = [
    Object.keys(run.vars ?? {}).length > 0 ? "--var" : undefined,
    Object.keys(run.inputs ?? {}).length > 0 ? "--input" : undefined,
    opts.event !== undefined ? "--event" : undefined,
    opts.eventFile !== undefined ? "--event-file" : undefined,
  ].filter((f) => f !== undefined);
  if (ignored.length > 0) {
    note(
      `${ignored.join(", ")}: ignored for a KDL workflow (it has no expressions); --env and --secret become step variables`,
    );
  }
}

/** The embedded service's log level: LOG_LEVEL, else `warn` (the job's log is the output). */
function serviceLogLevel(env: Readonly<Record<string, string | undefined>>): LogLevel {
  const raw = env["LOG_LEVEL"];
  return raw === undefined || raw.trim() === "" ? "warn" : logLevelFromEnv({ LOG_LEVEL: raw });
}
