import { CliError, EXIT_FAILED, EXIT_USAGE, type ExitCode } from "@solstice/cli-kit";
import { SolsticeError, WorkflowError } from "@solstice/common";

/** The base of `cidev`'s own errors: a stable `code`, a hint, and the exit code it leads to. */
export class CidevError extends CliError {}

/**
 * cidev's exit codes beyond the shared ones: an invalid workflow, found while reading it for
 * show/translate/run, exits 1; the rest is left to the shared rules (usage, files, git, the image
 * map, the VM host: 2).
 */
export function classifyCidevError(error: unknown): ExitCode | undefined {
  if (error instanceof WorkflowError) return EXIT_FAILED;
  if (error instanceof SolsticeError && error.code === "ACTIONS_WORKFLOW_ERRORS") return EXIT_FAILED;
  return undefined;
}

/** The file is neither a KDL workflow nor an Actions workflow (by its name). */
export class WorkflowFormatError extends CidevError {
  readonly file: string;

  constructor(file: string) {
    super("CIDEV_UNKNOWN_FORMAT", `cannot tell what kind of workflow ${file} is`, {
      exitCode: EXIT_USAGE,
      hint: "name a KDL workflow (.solstice/workflow.kdl, any *.kdl) or an Actions workflow (.github/workflows/*.yml, .forgejo/workflows/*.yml, any *.yml/*.yaml)",
    });
    this.file = file;
  }
}

/** A directory was named but holds no workflow cidev can pick (none, or several). */
export class WorkflowNotFoundError extends CidevError {
  readonly directory: string;
  readonly candidates: readonly string[];

  constructor(directory: string, candidates: readonly string[]) {
    super(
      "CIDEV_WORKFLOW_NOT_FOUND",
      candidates.length === 0
        ? `no workflow in ${directory} (looked for .solstice/workflow.kdl, .forgejo/workflows/*.yml, .github/workflows/*.yml)`
        : `${directory} has ${candidates.length} workflows: ${candidates.join(", ")}`,
      {
        exitCode: EXIT_USAGE,
        hint: candidates.length === 0 ? "name the workflow file itself" : "name one of them",
      },
    );
    this.directory = directory;
    this.candidates = candidates;
  }
}

/** The workflow has errors (each is a `WorkflowError` with its file, line and column). */
export class WorkflowInvalidError extends CidevError {
  readonly file: string;
  readonly errors: readonly SolsticeError[];

  constructor(file: string, errors: readonly SolsticeError[]) {
    const count = errors.length === 1 ? "1 error" : `${errors.length} errors`;
    super("CIDEV_WORKFLOW_INVALID", `${file}: ${count}\n${errors.map((e) => e.message).join("\n")}`, {
      exitCode: EXIT_FAILED,
      hint: `see the errors above (cidev validate ${file})`,
    });
    this.file = file;
    this.errors = errors;
  }
}

/** `--job` names no job of the workflow, or the workflow has several jobs and none was named. */
export class JobSelectionError extends CidevError {
  readonly file: string;
  readonly jobId: string | undefined;
  readonly available: readonly string[];

  constructor(file: string, jobId: string | undefined, available: readonly string[]) {
    const list = available.join(", ") || "none";
    super(
      "CIDEV_JOB_NOT_FOUND",
      jobId === undefined
        ? `${file} has ${available.length} jobs (${list}): say which one with --job <id> (cidev run: or --all-jobs)`
        : `${file} has no job "${jobId}" (jobs: ${list})`,
      { exitCode: EXIT_USAGE, hint: "list them with: cidev list <file>" },
    );
    this.file = file;
    this.jobId = jobId;
    this.available = available;
  }
}

/** A git command needed to serve the repository failed, or the file is not in a repository. */
export class GitRepositoryError extends CidevError {
  readonly path: string;

  constructor(path: string, message: string, hint: string, cause?: unknown) {
    super("CIDEV_GIT", message, { exitCode: EXIT_USAGE, hint, cause });
    this.path = path;
  }
}

/** The job's label has no image in the image map. */
export class RunLabelError extends CidevError {
  readonly label: string;

  constructor(label: string, imageMap: string, served: readonly string[]) {
    super("CIDEV_UNKNOWN_LABEL", `the image map ${imageMap} has no image for label "${label}"`, {
      exitCode: EXIT_USAGE,
      hint: `choose one with --runs-on (served: ${served.join(", ") || "none"}), or another map with --image-map`,
    });
    this.label = label;
  }
}
