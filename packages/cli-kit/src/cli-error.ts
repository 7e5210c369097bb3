import { SolsticeError } from "@solstice/common";
import type { ExitCode } from "./exit-codes.ts";

/** The base of a CLI's own errors: a stable `code`, a hint, and the exit code it leads to. */
export class CliError extends SolsticeError {
  readonly exitCode: ExitCode;

  constructor(
    code: string,
    message: string,
    options: { exitCode: ExitCode; hint?: string; cause?: unknown },
  ) {
    super(code, message, {
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.exitCode = options.exitCode;
  }
}
