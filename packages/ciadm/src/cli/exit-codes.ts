/** Exit codes of `ciadm` (and `cidev`): scripts and CI rely on them. */
export const EXIT_OK = 0;
/** The job failed or was cancelled, a check failed, or the request was refused (job already finished). */
export const EXIT_FAILED = 1;
/** Bad usage (unknown flag, missing argument, unknown job) or a connection error (API, broker, database). */
export const EXIT_USAGE = 2;

/** One of the exit codes above. */
export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILED | typeof EXIT_USAGE;
