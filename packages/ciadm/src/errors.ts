import { CliError, EXIT_FAILED, EXIT_USAGE } from "@solstice/cli-kit";

/** The base of `ciadm`'s own errors: a stable `code`, a hint, and the exit code it leads to. */
export class CiadmError extends CliError {}

/** Flags that do not go together, or a value that is not valid. */
export class UsageError extends CiadmError {
  constructor(message: string, hint: string) {
    super("CIADM_USAGE", message, { exitCode: EXIT_USAGE, hint });
  }
}

/** The orchestrator's HTTP API cannot be reached (connection refused, timeout, DNS). */
export class ApiUnreachableError extends CiadmError {
  readonly url: string;

  constructor(url: string, cause: unknown) {
    const why =
      cause instanceof Error
        ? cause.cause instanceof Error
          ? cause.cause.message
          : cause.message
        : String(cause);
    super("CIADM_API_UNREACHABLE", `cannot reach the orchestrator at ${url}: ${why}`, {
      exitCode: EXIT_USAGE,
      hint: "is the orchestrator running? point --orch-url / ORCH_URL at its HTTP API (default http://127.0.0.1:8081)",
      cause,
    });
    this.url = url;
  }
}

/** The HTTP API answered with an error (`{ error: { code, message } }`). */
export class ApiError extends CiadmError {
  readonly status: number;
  /** The API's error code: `UNAUTHORIZED`, `JOB_NOT_FOUND`, `JOB_FINISHED`, `INVALID_REQUEST`... */
  readonly apiCode: string;

  constructor(status: number, apiCode: string, message: string) {
    super("CIADM_API_ERROR", `${message} (HTTP ${status} ${apiCode})`, {
      // A refusal about the job itself (it already finished) is a failed request, not a usage error.
      exitCode: apiCode === "JOB_FINISHED" ? EXIT_FAILED : EXIT_USAGE,
      hint: hintFor(apiCode),
    });
    this.status = status;
    this.apiCode = apiCode;
  }
}

function hintFor(apiCode: string): string {
  switch (apiCode) {
    case "UNAUTHORIZED":
      return "set --orch-token / ORCH_TOKEN (or HTTP_TOKEN) to the orchestrator's HTTP_TOKEN";
    case "JOB_NOT_FOUND":
      return "list the jobs with: ciadm jobs";
    case "JOB_FINISHED":
      return "the job already finished: nothing to cancel";
    default:
      return "see the orchestrator's log for details";
  }
}

/** The API answered with something that is not what this ciadm expects (another version?). */
export class ApiResponseError extends CiadmError {
  constructor(url: string, problem: string) {
    super("CIADM_API_RESPONSE", `unexpected answer from ${url}: ${problem}`, {
      exitCode: EXIT_USAGE,
      hint: "is --orch-url / ORCH_URL the orchestrator's HTTP API, of the same version as ciadm?",
    });
  }
}

/** `git ls-remote` could not resolve `--ref`. */
export class RefNotFoundError extends CiadmError {
  constructor(repo: string, ref: string, cause?: unknown) {
    const why = cause instanceof Error ? `: ${cause.message}` : "";
    super("CIADM_REF_NOT_FOUND", `cannot resolve ${ref} in ${repo}${why}`, {
      exitCode: EXIT_USAGE,
      hint: "check the repository URL and the ref (a branch, a tag or refs/...), or pass --sha <commit>",
      cause,
    });
  }
}
