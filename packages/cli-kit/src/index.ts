export { type CliContext, processContext, silentContext } from "./cli-context.ts";
export { CliError } from "./cli-error.ts";
export { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, type ExitCode } from "./exit-codes.ts";
export { exitWhenDrained } from "./exit-when-drained.ts";
export { GitDaemon, GUEST_HOST_ADDRESS } from "./git/git-daemon.ts";
export { pickRemoteRef, type RemoteRef, resolveRemoteRef } from "./git/remote-refs.ts";
export { humanLogLine, type LogFormat, logDestination, logFormatFor } from "./log-destination.ts";
export {
  type ExitCodeClassifier,
  exitCodeFor,
  formatError,
  prepareProgram,
  runProgram,
} from "./run-program.ts";
export { PLAIN_STYLE, type TerminalStyle, terminalStyle } from "./terminal-style.ts";
