import { SolsticeError, WorkflowError } from "@solstice/common";
import { type Command, CommanderError } from "commander";
import { CidevError } from "../errors.ts";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type ExitCode } from "./exit-codes.ts";

/**
 * The exit code for an error that ended a command: its own for cidev's errors, 1 for an invalid
 * workflow (found while reading it for show/translate/run), 2 for everything else (usage, files,
 * git, the image map, the VM host).
 */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CidevError) return error.exitCode;
  if (error instanceof CommanderError) return commanderExitCode(error);
  if (error instanceof WorkflowError) return EXIT_FAILED;
  if (error instanceof SolsticeError && error.code === "ACTIONS_WORKFLOW_ERRORS") return EXIT_FAILED;
  return EXIT_USAGE;
}

/** Help and version exit 0; every usage error of commander exits 2 (commander would say 1). */
function commanderExitCode(error: CommanderError): ExitCode {
  return error.code === "commander.helpDisplayed" || error.code === "commander.version"
    ? EXIT_OK
    : EXIT_USAGE;
}

/** `name: message` and, when the error has one, `hint: …` on the next line. */
export function formatError(name: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const hint = error instanceof SolsticeError && error.hint !== undefined ? `\nhint: ${error.hint}` : "";
  return `${name}: ${message}${hint}\n`;
}

/**
 * Makes commander throw instead of exiting (so usage errors exit 2, not 1) and show the help
 * after a usage error. Call before adding subcommands: they inherit it.
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
