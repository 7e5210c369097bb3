import { setTimeout as sleep } from "node:timers/promises";
import type { JobStep } from "@solstice/common";
import { SshReconnectError } from "../errors.ts";
import { LineSplitter } from "../io/line-splitter.ts";
import type { StepFileCommands } from "./file-commands.ts";
import { FollowFrameParser } from "./follow-frames.ts";
import type { GuestLayout } from "./guest-layout.ts";
import type { GuestShell } from "./guest-shell.ts";
import type { JobEventEmitter } from "./job-events.ts";
import {
  renderKillCommand,
  renderStepCommand,
  renderStepFiles,
  type StepFiles,
  shellTemplate,
} from "./step-script.ts";

// Runs one step in the guest: uploads its script and launcher (mode 0755) unless they were
// uploaded ahead, starts it under its supervisor (detached from the SSH session, see
// ./step-script.ts), follows its stdout/stderr files by byte offset into log events line by line,
// resumes following on a new connection when the SSH connection drops (GuestShell.reconnect),
// and enforces its timeout and the job's cancellation by killing the step's process group with a
// second command (TERM, then KILL after a grace, then it stops following).

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
      // The kill needs a connection; a dropped one is re-established first (bounded).
      await shell.reconnect?.().catch(() => undefined);
      await shell.run(renderKillCommand(files.pidFile, signal)).catch(() => undefined);
      if (await finishedWithin(grace)) return;
    }
    // Something still holds the step up (a process outside the group): stop following it.
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

  // The step runs under its supervisor in the guest, detached from the SSH session; this follows
  // its output files by byte offset. When the connection drops, the same command runs again on a
  // new one from the offsets reached: the LineSplitters keep a partial last line, so no line is
  // lost or repeated.
  let offsets = { stdout: 0, stderr: 0 };
  let exitCode: number | undefined;
  let lost: string | undefined;
  try {
    for (;;) {
      const parser = new FollowFrameParser(offsets);
      const diagnostics = new BoundedText(2048);
      let result: { exitCode: number | null; signal: string | null } | undefined;
      let protocolError: Error | undefined;
      try {
        result = await shell.exec(renderStepCommand(files, offsets), {
          signal: channel.signal,
          onStdout: (chunk) => {
            if (protocolError !== undefined) return;
            try {
              for (const event of parser.push(chunk)) {
                if (event.type === "exit") continue;
                const splitter = event.stream === "stdout" ? stdout : stderr;
                events.logLines(index, event.stream, splitter.push(event.data));
              }
            } catch (error) {
              protocolError = error instanceof Error ? error : new Error(String(error));
              channel.abort();
            }
          },
          onStderr: (chunk) => diagnostics.push(chunk),
        });
      } catch (error) {
        // The shell's own reconnection (before opening the channel) gave up: the budget is spent.
        if (error instanceof SshReconnectError) {
          lost = error.message;
          break;
        }
        // The channel could not be opened: the connection dropped between two runs.
        if (shell.reconnect === undefined || !shell.closed || channel.signal.aborted) throw error;
      }
      offsets = parser.offsets;
      exitCode = parser.exitCode;
      if (protocolError !== undefined) {
        lost = protocolError.message;
        break;
      }
      if (exitCode !== undefined || channel.signal.aborted) break;
      if (!shell.closed || shell.reconnect === undefined) {
        lost = shell.closed
          ? "the SSH connection to the VM was lost"
          : `the step's follower ended without its exit status${describeEnd(result, diagnostics.text())}`;
        break;
      }
      try {
        await shell.reconnect();
      } catch (error) {
        lost = error instanceof Error ? error.message : String(error);
        break;
      }
      if (channel.signal.aborted) break;
      events.log(
        index,
        "system",
        "the SSH connection to the VM dropped; reconnected, the step goes on and its output resumes",
      );
    }
  } finally {
    finished = true;
    if (timer !== undefined) clearTimeout(timer);
    input.signal?.removeEventListener("abort", onAbort);
  }
  // Not followed any more but maybe still running (a broken follower): do not let it overlap the next step.
  if (lost !== undefined && !shell.closed) {
    await shell.run(renderKillCommand(files.pidFile, "KILL")).catch(() => undefined);
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
  if (exitCode === 0) return { conclusion: "success", exitCode: 0, durationMs, reason: undefined };
  if (exitCode !== undefined) {
    return { conclusion: "failure", exitCode, durationMs, reason: `exited with ${exitCode}` };
  }
  return fail(lost ?? "ended without an exit status");
}

function describeEnd(
  result: { exitCode: number | null; signal: string | null } | undefined,
  stderr: string,
): string {
  const parts: string[] = [];
  if (result?.exitCode !== null && result?.exitCode !== undefined) parts.push(`exit ${result.exitCode}`);
  if (result?.signal) parts.push(`signal ${result.signal}`);
  const text = stderr.trim().split("\n").slice(-3).join("; ");
  if (text !== "") parts.push(text);
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

/** Keeps the first `limit` bytes of a stream as text (the follower's own error messages). */
class BoundedText {
  readonly #limit: number;
  readonly #chunks: Buffer[] = [];
  #bytes = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(chunk: Buffer): void {
    if (this.#bytes >= this.#limit) return;
    const piece = chunk.subarray(0, this.#limit - this.#bytes);
    this.#chunks.push(piece);
    this.#bytes += piece.length;
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString("utf8");
  }
}
