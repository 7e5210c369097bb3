import { SolsticeError } from "@solstice/common";

// Every error this package raises on purpose: a stable `code` (tests and the daemon match on
// it), a message that names what failed, and a hint the operator can act on.

/** The base of this package's errors. */
export class GitHubRunnerError extends SolsticeError {}

/** A file of the runner's state (`.runner`, `.credentials`, `.credentials_rsaparams`) is missing or malformed. */
export class RunnerSettingsError extends GitHubRunnerError {
  readonly file: string;
  readonly field: string | undefined;

  constructor(
    file: string,
    problem: string,
    options: { field?: string; cause?: unknown; hint?: string } = {},
  ) {
    super(
      "GITHUB_RUNNER_SETTINGS_INVALID",
      `${file}: ${options.field === undefined || options.field === "" ? "" : `${options.field}: `}${problem}`,
      {
        cause: options.cause,
        hint:
          options.hint ??
          "register the runner again (`solstice-github-runner register`) or pass a fresh --jitconfig",
      },
    );
    this.file = file;
    this.field = options.field;
  }
}

/** A `--jitconfig` value that is not base64 JSON of the runner's files. */
export class JitConfigError extends GitHubRunnerError {
  constructor(problem: string, options: { cause?: unknown } = {}) {
    super("GITHUB_JIT_CONFIG_INVALID", `invalid JIT config: ${problem}`, {
      cause: options.cause,
      hint: "pass the `encoded_jit_config` value GitHub returned from generate-jitconfig, unchanged",
    });
  }
}

/** The RSA key file or key material cannot be used. */
export class RunnerKeyError extends GitHubRunnerError {
  constructor(problem: string, options: { cause?: unknown } = {}) {
    super("GITHUB_RUNNER_KEY_INVALID", `runner key: ${problem}`, {
      cause: options.cause,
      hint: "the .credentials_rsaparams file is damaged; register the runner again",
    });
  }
}

/**
 * GitHub no longer knows this runner: the token exchange answers `invalid_client`, or the
 * broker answers RunnerNotFound. The daemon must stop and the local configuration is stale.
 */
export class RunnerRemovedError extends GitHubRunnerError {
  constructor(detail: string, options: { cause?: unknown } = {}) {
    super("GITHUB_RUNNER_REMOVED", `the runner registration was deleted on GitHub: ${detail}`, {
      cause: options.cause,
      hint: "GitHub deletes runners that have not connected for a while; register the runner again",
    });
  }
}

/** The OAuth token exchange at `authorizationUrl` failed (other than a removed runner). */
export class TokenExchangeError extends GitHubRunnerError {
  readonly status: number;
  readonly oauthError: string | undefined;

  constructor(status: number, detail: string, oauthError?: string, options: { cause?: unknown } = {}) {
    super("GITHUB_TOKEN_EXCHANGE_FAILED", `token exchange failed (HTTP ${status}): ${detail}`, {
      cause: options.cause,
      hint: detail.includes("Current server time is")
        ? "the local clock is more than five minutes off the server's; sync it (NTP) and retry"
        : "check network access to GitHub; retried automatically",
    });
    this.status = status;
    this.oauthError = oauthError;
  }
}

/** A GitHub HTTP call answered an unexpected status or body. */
export class GitHubHttpError extends GitHubRunnerError {
  readonly status: number;
  readonly url: string;
  readonly body: string;

  constructor(
    what: string,
    url: string,
    status: number,
    body: string,
    options: { code?: string; hint?: string; cause?: unknown } = {},
  ) {
    super(
      options.code ?? "GITHUB_HTTP_FAILED",
      `${what}: HTTP ${status} from ${redactUrl(url)}${body === "" ? "" : `: ${truncate(body)}`}`,
      {
        cause: options.cause,
        hint:
          options.hint ?? "retried automatically when the call is retriable; check GitHub's status otherwise",
      },
    );
    this.status = status;
    this.url = url;
    this.body = body;
  }
}

/** A body from GitHub that does not have the shape the protocol says. */
export class GitHubResponseError extends GitHubRunnerError {
  readonly what: string;

  constructor(what: string, problem: string, options: { cause?: unknown } = {}) {
    super("GITHUB_RESPONSE_INVALID", `${what}: unexpected response: ${problem}`, {
      cause: options.cause,
      hint: "GitHub and this runner disagree on the protocol; report it with the runner version",
    });
    this.what = what;
  }
}

/** `register` found a runner of the same name and was not told to replace it. */
export class RunnerExistsError extends GitHubRunnerError {
  readonly runnerName: string;

  constructor(runnerName: string) {
    super("GITHUB_RUNNER_EXISTS", `a runner named "${runnerName}" already exists`, {
      hint: "pass --replace to take over its registration, or choose another --name",
    });
    this.runnerName = runnerName;
  }
}

/** No runner group matches (or none is self-hosted). */
export class RunnerGroupNotFoundError extends GitHubRunnerError {
  constructor(name: string | undefined) {
    super(
      "GITHUB_RUNNER_GROUP_NOT_FOUND",
      name === undefined
        ? "no self-hosted runner group found"
        : `no self-hosted runner group named "${name}"`,
      { hint: "check --runner-group against the groups of the repository, organization or enterprise" },
    );
  }
}

/** A GitHub URL that names neither a repository, an organization nor an enterprise. */
export class GitHubUrlError extends GitHubRunnerError {
  constructor(url: string, problem: string) {
    super("GITHUB_URL_INVALID", `${url}: ${problem}`, {
      hint: "use https://github.com/<owner>/<repo>, https://github.com/<org> or https://github.com/enterprises/<name>",
    });
  }
}

/** A job message Solstice CI cannot turn into a job. */
export class JobMessageError extends GitHubRunnerError {
  readonly jobId: string | undefined;

  constructor(jobId: string | undefined, problem: string, options: { cause?: unknown } = {}) {
    super("GITHUB_JOB_MESSAGE_INVALID", `job ${jobId ?? "(unknown)"}: ${problem}`, {
      cause: options.cause,
      hint: "the job is completed as failed on GitHub with this message",
    });
    this.jobId = jobId;
  }
}

/** A Twirp call to the results service failed or did not answer `ok: true`. */
export class ResultsServiceError extends GitHubRunnerError {
  readonly method: string;

  constructor(method: string, problem: string, options: { cause?: unknown } = {}) {
    super("GITHUB_RESULTS_FAILED", `results service ${method}: ${problem}`, {
      cause: options.cause,
      hint: "the log upload is retried; the job's result does not depend on it",
    });
    this.method = method;
  }
}

function truncate(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** A URL without its query (signed blob URLs carry their credential there). */
export function redactUrl(url: string): string {
  const at = url.indexOf("?");
  return at < 0 ? url : `${url.slice(0, at)}?…`;
}

/**
 * A broker or run-service call failed. `errorKind` is the body's kind when the service sent
 * one (`{source, statusCode, errorKind, errorMessage}`); `serviceStatus` its `statusCode`, which
 * decides (the HTTP status alone does not).
 */
export class ActionsServiceError extends GitHubHttpError {
  readonly errorKind: string | undefined;
  readonly serviceStatus: number | undefined;

  constructor(
    what: string,
    url: string,
    status: number,
    body: string,
    details: { errorKind?: string; serviceStatus?: number; hint?: string } = {},
  ) {
    super(what, url, status, body, {
      code: "GITHUB_SERVICE_FAILED",
      ...(details.hint === undefined ? {} : { hint: details.hint }),
    });
    this.errorKind = details.errorKind;
    this.serviceStatus = details.serviceStatus;
  }
}
