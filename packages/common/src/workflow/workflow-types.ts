/** A place in a workflow file: 1-based line (ended by LF, CRLF or CR) and column (UTF-16 code units, tabs count 1). */
export interface SourceLocation {
  readonly line: number;
  readonly column: number;
}

/** One `step` of a KDL job: a shell command and how to run it. */
export interface WorkflowStep {
  /** `name`: shown in logs and the forge; absent when the file gives none. */
  readonly name: string | undefined;
  /** `run`: the script. */
  readonly run: string;
  /** From the step's `env` child nodes (later nodes win). Empty when none. */
  readonly env: Readonly<Record<string, string>>;
  /** `shell`: `sh` (the default, run as `sh -e`), `bash`, or a template with `{0}`. */
  readonly shell: string | undefined;
  /** `working_directory`: relative to the workspace, or absolute. */
  readonly working_directory: string | undefined;
  /** `timeout`, in seconds. */
  readonly timeout_seconds: number | undefined;
  /** `continue_on_error`: a failure of this step does not fail the job. */
  readonly continue_on_error: boolean | undefined;
  /** `if`: an Actions condition such as `failure()` or `always()`; absent means `success()`. */
  readonly if: string | undefined;
  /** Where the `step` node starts. */
  readonly location: SourceLocation;
}

/** One `job` of a KDL workflow: one VM running its steps in order. */
export interface WorkflowJob {
  /** `id`: unique in the workflow. */
  readonly id: string;
  /** `runs_on`: the image label, resolved by the orchestrator (its default label when absent). */
  readonly runs_on: string | undefined;
  /** From the job's `env` child nodes: variables for every step. */
  readonly env: Readonly<Record<string, string>>;
  /** `timeout`, in seconds, for the whole job. */
  readonly timeout_seconds: number | undefined;
  /** `debug_ssh`: keep the VM for debugging when the job fails (opt-in, ADR-003). */
  readonly debug_ssh: boolean | undefined;
  /** The job's steps, in file order. */
  readonly steps: readonly WorkflowStep[];
  /** Where the `job` node starts. */
  readonly location: SourceLocation;
}

/** A parsed `.solstice/workflow.kdl`. */
export interface Workflow {
  /** The `workflow` node's `name`, when given. */
  readonly name: string | undefined;
  /** Jobs in file order. */
  readonly jobs: readonly WorkflowJob[];
  /** The same jobs by id. */
  readonly jobsById: ReadonlyMap<string, WorkflowJob>;
  /** The file name the workflow was parsed as (used in error messages). */
  readonly file: string;
}
