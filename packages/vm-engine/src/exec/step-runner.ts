import { setTimeout as sleep } from "node:timers/promises";
import type { JobStep } from "@solstice/common";
import { LineSplitter } from "../io/line-splitter.ts";
import type { SshSession } from "../ssh/ssh-session.ts";
import type { StepFileCommands } from "./file-commands.ts";
import type { GuestLayout } from "./guest-layout.ts";
import type { JobEventEmitter } from "./job-events.ts";
import { renderKillCommand, renderStepFiles, type StepFiles, shellTemplate } from "./step-script.ts";

// Runs one step over SSH: uploads its script and launcher (SFTP, mode 0755), runs it through the
// runner wrapper, streams stdout/stderr line by line as log events with the step index, and
// enforces its timeout and the job's cancellation by killing the step's process group over a
// second channel (TERM, then KILL after a grace, then closing the channel).

/** What {@link runStep} needs. */
export interface StepRunInput {
  readonly index: number;
  readonly step: JobStep;
  /** The merged environment for the step. */
  readonly env: Readonly<Record<string, string>>;
  readonly layout: GuestLayout;
  /** Cancels the step (job cancelled, or job timeout). */
  readonly signal?: AbortSignal | undefined;
  /**
   * Resolves when this step's files (as {@link renderStep} makes them from the same input) were
   * already uploaded; when it rejects, they are uploaded again.
   */
  readonly uploaded?: Promise<void> | undefined;
  /** Between TERM and KILL, and between KILL and giving up on the channel. Default 5000 ms. */
  readonly killGraceMs?: number;
  /** The step's file commands (created empty by the launcher; their variables are in `env`). */
  readonly fileCommands?: StepFileCommands | undefined;
  /** Directories earlier steps added with GITHUB_PATH, put before PATH. */
  readonly pathPrefix?: readonly string[] | undefined;
}

/** A step's files, or why it cannot be run (a bad `shell`, an env name a shell cannot hold). */
export function renderStep(
  input: Pick<StepRunInput, "index" | "step" | "env" | "layout" | "fileCommands" | "pathPrefix">,
): { files: StepFiles } | { error: string } {
  const shell = shellTemplate(input.step.shell);
  if ("error" in shell) return { error: `shell: ${shell.error}` };
  try {
    return {
      files: renderStepFiles(input.layout, {
        index: input.index,
        run: input.step.run,
        env: input.env,
        shellTemplate: shell.template,
        workingDirectory: input.step.working_directory,
        ...(input.fileCommands === undefined ? {} : { emptyFiles: Object.values(input.fileCommands) }),
        ...(input.pathPrefix === undefined ? {} : { pathPrefix: input.pathPrefix }),
      }),
    };
  } catch (error) {
    return { error: `env: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Upload a step's script and launcher by SFTP, mode 0755, both at once. */
export async function uploadStepFiles(session: SshSession, files: StepFiles): Promise<void> {
  await Promise.all([
    session.upload(files.scriptPath, files.scriptContent, 0o755),
    session.upload(files.launcherPath, files.launcherContent, 0o755),
  ]);
}

/** How a step ended. */
export interface StepOutcome {
  readonly conclusion: "success" | "failure" | "cancelled";
  /** Null when the step has no exit status of its own (not started, killed, connection lost). */
  readonly exitCode: number | null;
  readonly durationMs: number;
  /** Why it failed, for people (also logged as a system line of the step). */
  readonly reason: string | undefined;
}

/**
 * Run one step and report its output through `events` (the caller emits step_started and
 * step_finished). Never rejects for a failure of the step itself; rejects only when the SSH
 * connection fails while setting the step up.
 */
export async function runStep(
  session: SshSession,
  events: JobEventEmitter,
  input: StepRunInput,
): Promise<StepOutcome> {
  const started = Date.now();
  const { index, step } = input;
  const fail = (reason: string): StepOutcome => {
    events.log(index, "system", reason);
    return { conclusion: "failure", exitCode: null, durationMs: Date.now() - started, reason };
  };

  const rendered = renderStep(input);
  if ("error" in rendered) return fail(rendered.error);
  const files = rendered.files;
  if (input.signal?.aborted) {
    return { conclusion: "cancelled", exitCode: null, durationMs: 0, reason: "cancelled before it started" };
  }
  // Uploaded ahead (during the checkout) when the caller could; else, or if that failed, now.
  const ahead =
    input.uploaded === undefined
      ? false
      : await input.uploaded.then(
          () => true,
          () => false,
        );
  if (!ahead) await uploadStepFiles(session, files);

  const stdout = new LineSplitter();
  const stderr = new LineSplitter();
  const channel = new AbortController();
  let killedFor: "timeout" | "cancel" | undefined;
  let finished = false;
  const grace = input.killGraceMs ?? 5000;

  const kill = async (why: "timeout" | "cancel"): Promise<void> => {
    if (killedFor !== undefined) return;
    killedFor = why;
    for (const signal of ["TERM", "KILL"] as const) {
      await session.run(renderKillCommand(files.pidFile, signal)).catch(() => undefined);
      if (await finishedWithin(grace)) return;
    }
    // Something still holds the channel open (a process outside the group): stop listening.
    channel.abort();
  };
  const finishedWithin = async (ms: number): Promise<boolean> => {
    const until = Date.now() + ms;
    while (!finished && Date.now() < until) await sleep(50);
    return finished;
  };

  const timeoutSeconds = step.timeout_seconds;
  const timer =
    timeoutSeconds === undefined
      ? undefined
      : setTimeout(() => void kill("timeout"), Math.round(timeoutSeconds * 1000));
  const onAbort = (): void => void kill("cancel");
  input.signal?.addEventListener("abort", onAbort, { once: true });

  let result: { exitCode: number | null; signal: string | null };
  try {
    result = await session.exec(files.command, {
      signal: channel.signal,
      onStdout: (chunk) => {
        events.logLines(index, "stdout", stdout.push(chunk));
      },
      onStderr: (chunk) => {
        events.logLines(index, "stderr", stderr.push(chunk));
      },
    });
  } finally {
    finished = true;
    if (timer !== undefined) clearTimeout(timer);
    input.signal?.removeEventListener("abort", onAbort);
  }
  events.logLines(index, "stdout", stdout.flush());
  events.logLines(index, "stderr", stderr.flush());
  const durationMs = Date.now() - started;

  if (killedFor === "timeout") {
    return fail(`timed out after ${timeoutSeconds} s and was killed`);
  }
  if (killedFor === "cancel") {
    events.log(index, "system", "cancelled: the step was killed");
    return { conclusion: "cancelled", exitCode: null, durationMs, reason: "cancelled" };
  }
  if (result.exitCode === 0) return { conclusion: "success", exitCode: 0, durationMs, reason: undefined };
  if (result.exitCode !== null) {
    return {
      conclusion: "failure",
      exitCode: result.exitCode,
      durationMs,
      reason: `exited with ${result.exitCode}`,
    };
  }
  if (session.closed) return fail("the SSH connection to the VM was lost");
  return fail(`ended without an exit status${result.signal ? ` (signal ${result.signal})` : ""}`);
}
