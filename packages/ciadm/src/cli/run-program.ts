import { SolsticeError } from "@solstice/common";
import { type Command, CommanderError } from "commander";
import { CiadmError } from "../errors.ts";
import { EXIT_OK, EXIT_USAGE, type ExitCode } from "./exit-codes.ts";

/**
 * The exit code for an error that ended a command: its own for ciadm's errors; 0 for help and
 * version; 2 for everything else (usage errors, unreachable broker/database/API, a bad image map).
 */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CiadmError) return error.exitCode;
  if (error instanceof CommanderError) {
    return error.code === "commander.helpDisplayed" || error.code === "commander.version"
      ? EXIT_OK
      : EXIT_USAGE;
  }
  return EXIT_USAGE;
}

/** `name: message` and, when the error has one, `hint: …` on the next line. */
export function formatError(name: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const hint = error instanceof SolsticeError && error.hint !== undefined ? `\nhint: ${error.hint}` : "";
  return `${name}: ${message}${hint}\n`;
}

/**
 * Makes commander throw instead of exiting (so its usage errors exit 2, not 1) and show a hint
 * after a usage error. Call before adding subcommands: they inherit it.
 */
export function prepareProgram(program: Command): Command {
  return program.exitOverride().showHelpAfterError("(add --help for the commands and their options)");
}

/** Parses `argv`, runs the chosen command, prints what went wrong; resolves to the exit code. */
export async function runProgram(
  program: Command,
  argv: readonly string[],
  options: { stderr: NodeJS.WritableStream; exitCode: () => ExitCode },
): Promise<ExitCode> {
  try {
    await program.parseAsync([...argv]);
    return options.exitCode();
  } catch (error) {
    if (!(error instanceof CommanderError)) options.stderr.write(formatError(program.name(), error));
    return exitCodeFor(error);
  }
}
