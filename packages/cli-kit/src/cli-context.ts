import { Writable } from "node:stream";
import type { ExitCode } from "./exit-codes.ts";

/** Where a command writes, and how it reports its exit code (commander actions return nothing). */
export interface CliContext {
  /** Writes to standard output (a line needs its own `\n`). */
  readonly stdout: NodeJS.WritableStream;
  /** Writes to standard error. */
  readonly stderr: NodeJS.WritableStream;
  /** The environment the CLI was started with (for defaults that depend on it). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The working directory relative paths are taken from. */
  readonly cwd: string;
  /** Wraps a command's handler: its returned code becomes the process's exit code. */
  action<A extends unknown[]>(handler: (...args: A) => Promise<ExitCode>): (...args: A) => Promise<void>;
}

/** A context writing to the process's streams; `exitCode()` is the last action's result. */
export function processContext(): CliContext & { exitCode(): ExitCode } {
  let code: ExitCode = 0;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    action:
      <A extends unknown[]>(handler: (...args: A) => Promise<ExitCode>) =>
      async (...args: A) => {
        code = await handler(...args);
      },
    exitCode: () => code,
  };
}

/**
 * A context that writes nowhere and whose actions do nothing: for reading a program's definition
 * (its commands and flags, e.g. against docs/configuration.md) without running it.
 */
export function silentContext(): CliContext {
  const nowhere = new Writable({ write: (_chunk, _encoding, done) => done() });
  return {
    stdout: nowhere,
    stderr: nowhere,
    env: {},
    cwd: process.cwd(),
    action: () => async () => undefined,
  };
}
