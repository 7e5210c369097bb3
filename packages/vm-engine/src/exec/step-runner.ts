import { setTimeout as sleep } from "node:timers/promises";
import type { JobStep } from "@solstice/common";
import { LineSplitter } from "../io/line-splitter.ts";
import type { StepFileCommands } from "./file-commands.ts";
import type { GuestLayout } from "./guest-layout.ts";
import type { GuestShell } from "./guest-shell.ts";
import type { JobEventEmitter } from "./job-events.ts";
import { renderKillCommand, renderStepFiles, type StepFiles, shellTemplate } from "./step-script.ts";

// Runs one step in the guest: uploads its script and launcher (mode 0755) unless they were
// uploaded ahead, runs it through the runner wrapper, streams stdout/stderr line by line as log
// events with the step index, and enforces its timeout and the job's cancellation by killing the
// step's process group with a second command (TERM, then KILL after a grace, then it stops
// waiting for the first).

/** What {@link renderStep} makes a step's files from. */
export interface StepRenderInput {
  readonly index: number;
  readonly step: JobStep;
  /** The merged environment for the step. */
  readonly env: Readonly<Record<string, string>>;
  readonly layout: GuestLayout;
  /** The step's file commands (created empty by the launcher; their variables are in `env`). */
  readonly fileCommands?: StepFileCommands | undefined;
  /** Directories earlier steps added with GITHUB_PATH, put before PATH. */
  readonly pathPrefix?: readonly string[] | undefined;
}

/** What {@link runStep} needs. */
export interface StepRunInput {
  readonly index: number;
  /** The step's files, from {@link renderStep}. */
  readonly files: StepFiles;
  /** Killed after this long (the step's `timeout_seconds`). */
  readonly timeoutSeconds?: number | undefined;
  /** Cancels the step (job cancelled, or job timeout). */
  readonly signal?: AbortSignal | undefined;
  /**
   * Resolves when exactly these files were uploaded already (ahead, during the checkout); when
   * it rejects, or is undefined, they are uploaded now.
   */
  readonly uploaded?: Promise<void> | undefined;
  /** Between TERM and KILL, and between KILL and giving up on the step's command. Default 5000 ms. */
  readonly killGraceMs?: number;
}

/** A step's files, or why it cannot be run (a bad `shell`, an env name a shell cannot hold). */
export function renderStep(input: StepRenderInput): { files: StepFiles } | { error: string } {
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

/** Whether two renderings of a step are the same files (an upload of one serves the other). */
export function sameStepFiles(a: StepFiles, b: StepFiles): boolean {
  return (
    a.scriptPath === b.scriptPath &&
    a.scriptContent === b.scriptContent &&
    a.launcherPath === b.launcherPath &&
    a.launcherContent === b.launcherContent
  );
}

/** Upload a step's script and launcher, mode 0755, both at once. */
export async function uploadStepFiles(shell: GuestShell, files: StepFiles): Promise<void> {
  await Promise.all([
    shell.upload(files.scriptPath, files.scriptContent, 0o755),
    shell.upload(files.launcherPath, files.launcherContent, 0o755),
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
 * step_finished). Never rejects for a failure of the step itself; rejects only when the
 * connection to the guest fails while setting the step up.
 */
export async function runStep(
  shell: GuestShell,
  events: JobEventEmitter,
  input: StepRunInput,
): Promise<StepOutcome> {
  const started = Date.now();
  const { index, files } = input;
  const fail = (reason: string): StepOutcome => {
    events.log(index, "system", reason);
    return { conclusion: "failure", exitCode: null, durationMs: Date.now() - started, reason };
  };

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
  if (!ahead) await uploadStepFiles(shell, files);

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
      await shell.run(renderKillCommand(files.pidFile, signal)).catch(() => undefined);
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

  const timeoutSeconds = input.timeoutSeconds;
  const timer =
    timeoutSeconds === undefined
      ? undefined
      : setTimeout(() => void kill("timeout"), Math.round(timeoutSeconds * 1000));
  const onAbort = (): void => void kill("cancel");
  input.signal?.addEventListener("abort", onAbort, { once: true });

  let result: { exitCode: number | null; signal: string | null };
  try {
    result = await shell.exec(files.command, {
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
  if (shell.closed) return fail("the SSH connection to the VM was lost");
  return fail(`ended without an exit status${result.signal ? ` (signal ${result.signal})` : ""}`);
}
