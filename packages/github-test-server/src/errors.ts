import { SolsticeError } from "@solstice/common";

// Errors the test server's own API raises (not the HTTP answers it gives runners: those are
// GitHub's shapes). Codes are stable: tests match on them.

/**
 * A workflow given to `addJob` that cannot become a job message: not YAML, not a valid
 * workflow, a bad matrix or `runs-on`. The message names the workflow file.
 */
export class TestWorkflowError extends SolsticeError {
  /** The workflow file as the job names it, e.g. `.github/workflows/ci.yml`. */
  readonly file: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super("GITHUB_TEST_WORKFLOW_INVALID", `${file}: ${problem}`, {
      cause: options?.cause,
      hint: "give addJob the YAML text of a whole workflow with a `jobs` mapping",
    });
    this.file = file;
  }
}

/** The job (or matrix row) asked of `addJob` is not in the workflow. */
export class TestJobNotFoundError extends SolsticeError {
  readonly file: string;
  readonly jobId: string;
  /** What the workflow has: job ids, or the job's matrix rows as JSON. */
  readonly available: readonly string[];

  constructor(file: string, jobId: string, problem: string, available: readonly string[]) {
    super("GITHUB_TEST_JOB_NOT_FOUND", `${file}: ${problem} (available: ${available.join(", ") || "none"})`, {
      hint: "pass one of the available job ids as jobId, or a matrix row the job expands to",
    });
    this.file = file;
    this.jobId = jobId;
    this.available = available;
  }
}

/** No job, runner, repository or installation with that id on this test server. */
export class TestServerLookupError extends SolsticeError {
  readonly what: string;

  constructor(what: string, hint: string) {
    super("GITHUB_TEST_NOT_FOUND", `no ${what} on this test server`, { hint });
    this.what = what;
  }
}

/** A repository given to `addRepository` that is badly named or that git cannot open. */
export class TestRepositoryError extends SolsticeError {
  readonly fullName: string;

  constructor(fullName: string, problem: string, options?: { cause?: unknown }) {
    super("GITHUB_TEST_REPOSITORY_INVALID", `repository ${fullName}: ${problem}`, {
      cause: options?.cause,
      hint: "name it owner/name and give the path of a git repository (bare, or a work tree)",
    });
    this.fullName = fullName;
  }
}

/** A server option or test call that cannot work as given (e.g. an App call without an App). */
export class TestConfigError extends SolsticeError {
  constructor(problem: string, hint: string) {
    super("GITHUB_TEST_CONFIG_INVALID", problem, { hint });
  }
}

/** `waitForJob` ran out of time; the message describes the job as it was then. */
export class TestWaitTimeoutError extends SolsticeError {
  readonly jobId: string;
  readonly waitedMs: number;

  constructor(jobId: string, waitedMs: number, state: string) {
    super("GITHUB_TEST_WAIT_TIMEOUT", `job ${jobId}: condition not met after ${waitedMs} ms; job: ${state}`, {
      hint: "is a runner registered with labels covering the job's runs-on, and polling the broker?",
    });
    this.jobId = jobId;
    this.waitedMs = waitedMs;
  }
}

/** The test server was closed: it takes no more calls. */
export class TestServerClosedError extends SolsticeError {
  constructor(operation: string) {
    super("GITHUB_TEST_SERVER_CLOSED", `cannot ${operation}: the test server is closed`);
  }
}
