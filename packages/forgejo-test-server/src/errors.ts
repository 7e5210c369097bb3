import { SolsticeError } from "@solstice/common";

/**
 * A workflow given to `addTask` that cannot become a task payload: not YAML, no `jobs`, a bad
 * matrix. The message names the workflow file and the job.
 */
export class TestWorkflowError extends SolsticeError {
  /** The workflow file as the task names it, e.g. `.forgejo/workflows/ci.yml`. */
  readonly file: string;

  constructor(file: string, problem: string, options?: { cause?: unknown; hint?: string }) {
    super("FORGEJO_TEST_WORKFLOW_INVALID", `${file}: ${problem}`, {
      cause: options?.cause,
      hint: options?.hint ?? "give addTask the YAML text of a whole workflow with a `jobs` mapping",
    });
    this.file = file;
  }
}

/** The job (or matrix combination) asked of `addTask` is not in the workflow. */
export class TestJobNotFoundError extends SolsticeError {
  readonly file: string;
  /** The job id asked for. */
  readonly jobId: string;
  /** What the workflow has: job ids, or the job's matrix combinations as `(a, b)`. */
  readonly available: readonly string[];

  constructor(file: string, jobId: string, problem: string, available: readonly string[]) {
    super(
      "FORGEJO_TEST_JOB_NOT_FOUND",
      `${file}: ${problem} (available: ${available.join(", ") || "none"})`,
      {
        hint: "pass one of the available job ids as jobId, or a matrix combination the job expands to",
      },
    );
    this.file = file;
    this.jobId = jobId;
    this.available = available;
  }
}

/** No task (or repository) with that id/name on this test server. */
export class TestServerLookupError extends SolsticeError {
  readonly what: string;

  constructor(what: string, hint: string) {
    super("FORGEJO_TEST_NOT_FOUND", `no ${what} on this test server`, { hint });
    this.what = what;
  }
}

/** A repository given to `addRepository` that git cannot open. */
export class TestRepositoryError extends SolsticeError {
  readonly fullName: string;
  readonly path: string;

  constructor(fullName: string, path: string, problem: string, options?: { cause?: unknown }) {
    super("FORGEJO_TEST_REPOSITORY_INVALID", `repository ${fullName} at ${path}: ${problem}`, {
      cause: options?.cause,
      hint: "give the path of a git repository (bare, or a work tree with .git) and the name as owner/name",
    });
    this.fullName = fullName;
    this.path = path;
  }
}

/** `waitForTask` ran out of time; the message describes the task as it was then. */
export class TestWaitTimeoutError extends SolsticeError {
  readonly taskId: bigint;
  readonly waitedMs: number;

  constructor(taskId: bigint, waitedMs: number, state: string) {
    super(
      "FORGEJO_TEST_WAIT_TIMEOUT",
      `task ${taskId}: condition not met after ${waitedMs} ms; task: ${state}`,
      {
        hint: "is a runner registered with labels matching the task's runs-on, and polling this server?",
      },
    );
    this.taskId = taskId;
    this.waitedMs = waitedMs;
  }
}

/** The test server was closed: it takes no more calls. */
export class TestServerClosedError extends SolsticeError {
  constructor(operation: string) {
    super("FORGEJO_TEST_SERVER_CLOSED", `cannot ${operation}: the test server is closed`);
  }
}
