import { posix } from "node:path";
import type { JobConclusion, JobRequest, JobStep, ServiceLogger } from "@solstice/common";
import { SPAN_ATTRIBUTES as ATTR, inSpan, type OpenSpan, silentLogger, startSpan } from "@solstice/common";
import { isJobTimeout, JobDefinitionError, SshCommandError, WorkspaceCheckoutError } from "../errors.ts";
import { LineSplitter } from "../io/line-splitter.ts";
import {
  parseKeyValueFile,
  parsePathFile,
  parseReadBack,
  renderReadBackCommand,
  STEP_SUMMARY_LIMIT_BYTES,
  type StepFileCommands,
  stepFileCommands,
} from "./file-commands.ts";
import { type GuestLayout, guestLayout } from "./guest-layout.ts";
import type { GuestShell } from "./guest-shell.ts";
import { armJobTimeout } from "./job-deadline.ts";
import type { JobEventEmitter } from "./job-events.ts";
import {
  JOB_SCRIPT_PATH,
  type JobPlan,
  planFromJobScript,
  planFromRequest,
  planFromWorkflowKdl,
  renderFallbackProbe,
  WORKFLOW_KDL_PATH,
} from "./job-plan.ts";
import { JobRunState, outcomeWithFileCommandErrors } from "./job-run-state.ts";
import { shQuote } from "./shell-quote.ts";
import { stepEnvironment } from "./step-environment.ts";
import { renderStep, runStep, type StepOutcome, sameStepFiles, uploadStepFiles } from "./step-runner.ts";
import type { StepFiles } from "./step-script.ts";
import { CHECKOUT_DONE_MARKER, renderWorkspaceScript, WORKSPACE_MARKER } from "./workspace-script.ts";

// A job in a guest, through its GuestShell (SSH to a VM): prepare the run directory and check the
// workspace out at the exact commit (one script), decide the steps (request, or the repository's
// fallback), then run them in order. After a failing step (without continue_on_error) the job is failing: later steps run only when
// their `if` says so (failure(), always()); the others are reported skipped. Which step runs,
// outcome vs conclusion and the job's status are job-run-state.ts's (pure); this module does the
// I/O: the workspace, the plan, rendering and running each step, reading its file commands back.

/** Options of {@link executeJob}. */
export interface ExecuteJobOptions {
  readonly events: JobEventEmitter;
  /** Cancels the job; its `reason` (an Error) says why (cancelled, job timeout). */
  readonly signal?: AbortSignal | undefined;
  readonly logger?: ServiceLogger;
  /** History depth of the checkout (0: all). Default 1. */
  readonly checkoutDepth?: number;
  /** See StepRunInput.killGraceMs. */
  readonly killGraceMs?: number;
}

/** One step's result. */
export interface StepResult {
  readonly index: number;
  readonly name: string;
  readonly conclusion: "success" | "failure" | "skipped" | "cancelled";
  readonly exitCode: number | null;
  readonly durationMs: number;
}

/** How the job went. */
export interface JobExecution {
  readonly conclusion: JobConclusion;
  readonly reason: string | undefined;
  readonly steps: readonly StepResult[];
  /** Where the steps came from (`request`, `.solstice/job.sh`, `.solstice/workflow.kdl#job`). */
  readonly source: string;
  /** Present when the job ran out of time (a `JobTimeoutError`): it then fails. */
  readonly timedOut?: true;
}

/** The name shown for a step: its own, else the first line of its command. */
export function stepDisplayName(step: JobStep): string {
  if (step.name !== undefined && step.name.trim() !== "") return step.name;
  const first =
    step.run
      .split("\n")
      .find((line) => line.trim() !== "")
      ?.trim() ?? "(empty step)";
  return first.length > 60 ? `${first.slice(0, 57)}...` : first;
}

/** Why the signal fired, for people. */
export function abortReason(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name !== "AbortError") return reason.message;
  if (typeof reason === "string" && reason !== "") return reason;
  return "cancelled";
}

/**
 * Check out the workspace and run the job's steps in `shell`. Job failures (a failing step, a bad
 * definition) are results; rejects only when the guest cannot be used at all (connection lost
 * during setup, checkout failed: {@link WorkspaceCheckoutError}).
 *
 * @example
 *   const execution = await executeJob(shell, request, { events, signal });
 *   execution.conclusion; // "success" | "failure" | "cancelled"
 */
export async function executeJob(
  shell: GuestShell,
  request: JobRequest,
  options: ExecuteJobOptions,
): Promise<JobExecution> {
  const { events } = options;
  const logger = options.logger ?? silentLogger;
  // The request's steps are uploaded as soon as the run directory exists, overlapping the git
  // fetch (guests under TCG are slow); a step whose files differ when it is reached (runtime
  // expressions, GITHUB_ENV, GITHUB_PATH) is uploaded again then.
  const ahead = new Map<number, AheadUpload>();
  const layout = await inSpan("workspace checkout", {}, () =>
    prepareWorkspace(shell, request, options, (early) => {
      for (const [index, step] of (request.steps ?? []).entries()) {
        const fileCommands = stepFileCommands(early, index);
        const rendered = renderStep({
          index,
          step,
          env: stepEnvironment({ request, layout: early, step, index, fileCommands }),
          layout: early,
          fileCommands,
          pathPrefix: [],
        });
        if ("files" in rendered) {
          const upload = uploadStepFiles(shell, rendered.files);
          upload.catch(() => undefined);
          ahead.set(index, { files: rendered.files, upload });
        }
      }
    }),
  );
  if (options.signal?.aborted) {
    const reason = abortReason(options.signal);
    if (isJobTimeout(options.signal))
      return { conclusion: "failure", reason, steps: [], source: "request", timedOut: true };
    return { conclusion: "cancelled", reason, steps: [], source: "request" };
  }

  const plan = await planJob(shell, request, layout);
  if (plan.source !== "request") events.system(`Running the steps of ${plan.source}`);

  // A workflow job's own timeout applies when the request has none.
  const jobTimeout = request.timeout_seconds === undefined ? plan.timeoutSeconds : undefined;
  const local = new AbortController();
  const timer = armJobTimeout(
    local,
    jobTimeout === undefined ? undefined : { seconds: jobTimeout, limit: "job" },
  );
  const signal =
    options.signal === undefined ? local.signal : AbortSignal.any([options.signal, local.signal]);

  const results: StepResult[] = [];
  const run = new JobRunState(request.env ?? {});
  // The step's span: its start and end events and its commands are its children.
  let stepSpan: OpenSpan | undefined;
  try {
    for (const [index, step] of plan.steps.entries()) {
      if (signal.aborted) run.cancel(abortReason(signal));
      const decision = run.decide(step);
      if (decision.action === "skip" && decision.why === "job-cancelled") {
        // Nothing more runs: one line for the rest, not an event per step (a job of thousands of
        // steps would otherwise take seconds to end). Owners conclude the steps they never heard of.
        const left = plan.steps.length - index;
        events.system(
          `${left} ${left === 1 ? "step was" : "steps were"} not run (${stepRange(index, plan.steps.length)}): ${run.reason ?? "the job was cancelled"}`,
        );
        break;
      }
      if (decision.action === "skip") {
        const name = stepDisplayName(step);
        events.stepFinished(index, { exitCode: null, durationMs: 0, conclusion: "skipped" });
        results.push({ index, name, conclusion: "skipped", exitCode: null, durationMs: 0 });
        run.finishStep(step, { name, outcome: "skipped" });
        logger.debug({ requestId: request.request_id, step: index, why: decision.why }, "step skipped");
        continue;
      }
      const ready = decision.action === "run" ? decision.step : step;
      const name = stepDisplayName(ready);
      stepSpan = startSpan("step", { [ATTR.stepName]: name, [ATTR.stepIndex]: index });
      const span = stepSpan;
      span.run(() => events.stepStarted(index, name));
      const fileCommands = stepFileCommands(layout, index);
      // Rendered once, here: the files depend on what earlier steps left (GITHUB_ENV, GITHUB_PATH).
      const rendered =
        decision.action === "fail"
          ? { error: decision.error }
          : renderStep({
              index,
              step: ready,
              env: stepEnvironment({
                request,
                layout,
                planEnv: plan.env,
                step: ready,
                index,
                githubEnv: run.githubEnv,
                fileCommands,
              }),
              layout,
              fileCommands,
              pathPrefix: [...run.pathPrefix],
            });
      let outcome: StepOutcome;
      let outputs: Record<string, string> = {};
      let summary: string | undefined;
      if ("error" in rendered) {
        outcome = failStep(events, index, rendered.error);
      } else {
        outcome = await span.run(() =>
          runStep(shell, events, {
            index,
            files: rendered.files,
            timeoutSeconds: ready.timeout_seconds,
            signal,
            uploaded: uploadedAhead(ahead.get(index), rendered.files),
            ...(options.killGraceMs === undefined ? {} : { killGraceMs: options.killGraceMs }),
          }),
        );
        if (outcome.conclusion !== "cancelled") {
          // As in Actions, a step's file commands are processed whether it succeeded or not.
          const written = await readFileCommands(shell, fileCommands);
          run.applyFileCommands(written);
          outputs = written.outputs;
          summary = written.summary;
          for (const note of written.notes) events.log(index, "system", note);
          for (const error of written.errors) events.log(index, "system", error);
          outcome = outcomeWithFileCommandErrors(outcome, written.errors);
        }
      }
      const finished = {
        exitCode: outcome.exitCode,
        durationMs: outcome.durationMs,
        conclusion: outcome.conclusion,
        ...(Object.keys(outputs).length === 0 ? {} : { outputs }),
        ...(summary === undefined || summary === "" ? {} : { summary }),
      };
      span.run(() => events.stepFinished(index, finished));
      results.push({ index, name, ...outcome });
      if (outcome.conclusion === "cancelled") run.cancel(abortReason(signal));
      const verdict = run.finishStep(step, {
        name,
        outcome: outcome.conclusion,
        reason: outcome.reason,
        outputs,
      });
      span.setAttributes({
        [ATTR.stepExitCode]: outcome.exitCode ?? undefined,
        [ATTR.stepOutcome]: outcome.conclusion,
        [ATTR.stepConclusion]: verdict.continuedOnError ? "success" : outcome.conclusion,
      });
      span.end(
        outcome.conclusion === "failure"
          ? new Error(events.mask(outcome.reason ?? "the step failed"))
          : undefined,
      );
      logger.debug({ requestId: request.request_id, step: index, ...outcome }, "step finished");
      if (verdict.continuedOnError) {
        events.log(
          index,
          "system",
          `the step failed (${outcome.reason ?? "failure"}); continue_on_error lets the job go on`,
        );
      }
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    stepSpan?.end(new Error("the step did not finish"));
  }
  if (run.status === "cancelled" && isJobTimeout(signal)) {
    return { conclusion: "failure", reason: run.reason, steps: results, source: plan.source, timedOut: true };
  }
  return { conclusion: run.status, reason: run.reason, steps: results, source: plan.source };
}

/** `step 3` or `steps 3 to 100000`, numbered from 1 as people count them. */
function stepRange(from: number, to: number): string {
  return to - from === 1 ? `step ${from + 1}` : `steps ${from + 1} to ${to}`;
}

/** A step that cannot run (its `if`, a runtime expression or its files failed): the reason is its log. */
function failStep(events: JobEventEmitter, index: number, message: string): StepOutcome {
  events.log(index, "system", message);
  return { conclusion: "failure", exitCode: null, durationMs: 0, reason: message };
}

/** A step's files uploaded during the checkout, as the request gave the step. */
interface AheadUpload {
  readonly files: StepFiles;
  readonly upload: Promise<void>;
}

/** The ahead-of-time upload, if it uploaded exactly the files this step needs now. */
function uploadedAhead(ahead: AheadUpload | undefined, files: StepFiles): Promise<void> | undefined {
  return ahead !== undefined && sameStepFiles(ahead.files, files) ? ahead.upload : undefined;
}

/** What a step wrote to its file commands, parsed; `errors` name the file and line (they fail the step). */
interface WrittenFileCommands {
  readonly outputs: Record<string, string>;
  readonly env: Record<string, string>;
  readonly path: string[];
  /** GITHUB_STEP_SUMMARY's markdown, when written and within the limit. */
  readonly summary: string | undefined;
  readonly errors: string[];
  /** For the step's log, without failing it (a summary too large to keep). */
  readonly notes: string[];
}

/**
 * Reads a step's GITHUB_OUTPUT, GITHUB_ENV and GITHUB_PATH back in one SSH round trip (only the
 * non-empty ones come back) and parses them. A lost connection leaves them unread.
 */
async function readFileCommands(shell: GuestShell, files: StepFileCommands): Promise<WrittenFileCommands> {
  let stdout: string;
  try {
    stdout = (await shell.run(renderReadBackCommand(files))).stdout;
  } catch {
    return { outputs: {}, env: {}, path: [], summary: undefined, errors: [], notes: [] };
  }
  const back = parseReadBack(stdout);
  const outputs = parseKeyValueFile(back.GITHUB_OUTPUT ?? "", "GITHUB_OUTPUT");
  const env = parseKeyValueFile(back.GITHUB_ENV ?? "", "GITHUB_ENV");
  return {
    outputs: outputs.values,
    env: env.values,
    path: parsePathFile(back.GITHUB_PATH ?? ""),
    summary: back.GITHUB_STEP_SUMMARY,
    errors: [outputs.error, env.error].filter((error) => error !== undefined),
    // As GitHub: a summary over the limit is dropped with a note; the step does not fail.
    notes:
      back.summaryTooLargeBytes === undefined
        ? []
        : [
            `GITHUB_STEP_SUMMARY: ${back.summaryTooLargeBytes} bytes is more than the ${STEP_SUMMARY_LIMIT_BYTES / 1024} KiB a step summary may hold; it was not kept`,
          ],
  };
}

/**
 * Make the run directory with the step runner and check the workspace out, in one script; its
 * output goes to the job log as system lines. Returns the guest layout (from the workspace path
 * the script prints). Throws {@link WorkspaceCheckoutError} when the checkout fails.
 */
async function prepareWorkspace(
  shell: GuestShell,
  request: JobRequest,
  options: ExecuteJobOptions,
  onRunDir: (layout: GuestLayout) => void,
): Promise<GuestLayout> {
  const { events } = options;
  const checkout = request.workspace_checkout !== false;
  const script = renderWorkspaceScript({
    repoUrl: request.repo_url,
    commitSha: request.commit_sha,
    checkout,
    ...(options.checkoutDepth === undefined ? {} : { depth: options.checkoutDepth }),
  });
  const output: string[] = [];
  let workspace: string | undefined;
  let head: string | undefined;
  const splitter = new LineSplitter();
  const accept = (line: string): void => {
    if (workspace === undefined && line.startsWith(WORKSPACE_MARKER)) {
      workspace = line.slice(WORKSPACE_MARKER.length);
      // The run directory exists once the script names the workspace.
      if (workspace.startsWith("/")) onRunDir(guestLayout(posix.dirname(workspace)));
    }
    if (line.startsWith(CHECKOUT_DONE_MARKER)) head = line.slice(CHECKOUT_DONE_MARKER.length).trim();
    output.push(line);
    if (output.length > 20) output.shift();
    events.system(line);
  };
  const result = await shell.exec(`sh -c ${shQuote(script)}`, {
    signal: options.signal,
    onStdout: (chunk) => splitter.push(chunk).forEach(accept),
    onStderr: (chunk) => splitter.push(chunk).forEach(accept),
  });
  splitter.flush().forEach(accept);
  const failed = (): WorkspaceCheckoutError =>
    new WorkspaceCheckoutError({
      repoUrl: request.repo_url,
      commitSha: request.commit_sha,
      exitCode: result.exitCode,
      output,
    });
  if (workspace === undefined || !workspace.startsWith("/")) {
    if (options.signal?.aborted) return guestLayout("/");
    throw failed();
  }
  const layout = guestLayout(posix.dirname(workspace));
  if (options.signal?.aborted) return layout;
  if (result.exitCode !== 0) throw failed();
  if (checkout && (head === undefined || !head.startsWith(request.commit_sha.toLowerCase()))) throw failed();
  return layout;
}

async function planJob(shell: GuestShell, request: JobRequest, layout: GuestLayout): Promise<JobPlan> {
  if (request.steps !== undefined) return planFromRequest(request.steps);
  const probe = await shell.run(renderFallbackProbe(layout.workspace));
  const found = probe.stdout.trim();
  if (probe.exitCode === 0 && found === "job.sh") return planFromJobScript();
  if (probe.exitCode === 0 && found === "workflow.kdl") {
    const file = await shell.run(`cat ${shQuote(`${layout.workspace}/${WORKFLOW_KDL_PATH}`)}`);
    if (file.exitCode !== 0) {
      throw new SshCommandError(
        `read ${WORKFLOW_KDL_PATH}`,
        `cat failed (exit ${file.exitCode}): ${file.stderr.trim()}`,
      );
    }
    return planFromWorkflowKdl(file.stdout, request.workflow_job_id);
  }
  if (probe.exitCode !== 0) {
    throw new SshCommandError("look for .solstice/job.sh", `exit ${probe.exitCode}: ${probe.stderr.trim()}`);
  }
  throw new JobDefinitionError(
    `the request has no steps and the repository has neither ${JOB_SCRIPT_PATH} nor ${WORKFLOW_KDL_PATH} at ${request.commit_sha}`,
  );
}
