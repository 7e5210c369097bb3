import { SolsticeError } from "@solstice/common";
import { type Command, CommanderError } from "commander";
import { CliError } from "./cli-error.ts";
import { describeRootCause } from "./error-cause.ts";
import { EXIT_OK, EXIT_USAGE, type ExitCode } from "./exit-codes.ts";

/**
 * Decides the exit code of an error that is neither a {@link CliError} nor commander's own, or
 * `undefined` to let it exit 2 (e.g. cidev: an invalid workflow found while reading it exits 1).
 */
export type ExitCodeClassifier = (error: unknown) => ExitCode | undefined;

/**
 * The exit code for an error that ended a command: its own for a {@link CliError}; 0 for help and
 * version, 2 for commander's usage errors (commander would say 1); then `classify`; else 2 (usage,
 * files, an unreachable broker/database/API, a bad image map...).
 */
export function exitCodeFor(error: unknown, classify?: ExitCodeClassifier): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof CommanderError) {
    return error.code === "commander.helpDisplayed" || error.code === "commander.version"
      ? EXIT_OK
      : EXIT_USAGE;
  }
  return classify?.(error) ?? EXIT_USAGE;
}

/** `name: message` and, when the error has one, `hint: …` on the next line. */
export function formatError(name: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // "fetch failed" says nothing: the root cause (ECONNREFUSED host:port, ENOTFOUND host) does.
  const cause = describeRootCause(error, message);
  const hint = error instanceof SolsticeError && error.hint !== undefined ? `\nhint: ${error.hint}` : "";
  return `${name}: ${message}${cause === undefined ? "" : ` (${cause})`}${hint}\n`;
}

/**
 * Makes commander throw instead of exiting (so usage errors exit 2, not 1) and show a hint after
 * a usage error. Call before adding subcommands: they inherit it.
 */
export function prepareProgram(program: Command): Command {
  return program.exitOverride().showHelpAfterError("(add --help for the commands and their options)");
}

/**
 * Parses `argv` and runs the chosen command; resolves to the exit code. Errors are printed to
 * `stderr` (commander's own usage errors were already printed by commander).
 */
export async function runProgram(
  program: Command,
  argv: readonly string[],
  options: { stderr: NodeJS.WritableStream; exitCode: () => ExitCode; classify?: ExitCodeClassifier },
): Promise<ExitCode> {
  try {
    await program.parseAsync([...argv]);
    return options.exitCode();
  } catch (error) {
    if (!(error instanceof CommanderError)) options.stderr.write(formatError(program.name(), error));
    return exitCodeFor(error, options.classify);
  }
}
