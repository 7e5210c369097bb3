/** Exit codes of `cidev` and `ciadm`: scripts and CI rely on them. */
export const EXIT_OK = 0;
/** The job failed or was cancelled, the workflow is invalid, a check failed, or the request was refused (job already finished). */
export const EXIT_FAILED = 1;
/** Bad usage (unknown flag, missing argument, no such file or job) or a connection/setup error (API, broker, database). */
export const EXIT_USAGE = 2;

/** Interrupted with Ctrl-C (SIGINT) or SIGTERM: 128 + SIGINT, as shells report it. */
export const EXIT_INTERRUPTED = 130;

/** One of the exit codes above. */
export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILED | typeof EXIT_USAGE | typeof EXIT_INTERRUPTED;
