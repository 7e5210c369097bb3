import { readFile } from "node:fs/promises";
import {
  type ActionsWorkflow,
  type KdlVersion,
  validateActionsWorkflow,
  validateWorkflow,
  type Workflow,
  type WorkflowError,
  WorkflowReadError,
} from "@solstice/common";
import { WorkflowInvalidError } from "../errors.ts";
import { actionsValueText } from "./actions-value-text.ts";
import { type WorkflowFormat, workflowFormat } from "./workflow-file.ts";

/** A workflow read from a file, of either format (a KDL one with the KDL version it was read as). */
export type LoadedWorkflow =
  | {
      readonly format: "kdl";
      readonly file: string;
      readonly workflow: Workflow;
      readonly kdlVersion: KdlVersion;
    }
  | { readonly format: "actions"; readonly file: string; readonly workflow: ActionsWorkflow };

/** A job as `cidev list` shows it. */
export interface JobSummary {
  readonly id: string;
  /** `runs_on` (KDL) or `runs-on` as written (Actions); undefined when absent. */
  readonly runsOn: string | undefined;
  /** `name:` of an Actions job, as written. */
  readonly name: string | undefined;
  readonly steps: number;
}

/** What checking a workflow file found: the workflow when valid, else every error. */
export interface WorkflowCheck {
  readonly format: WorkflowFormat;
  readonly workflow: LoadedWorkflow | undefined;
  /** Every error, in file order; each prints as `file:line:column: message`. */
  readonly errors: readonly WorkflowError[];
  /** For a KDL file, the KDL version it was read as (or whose syntax error is reported). */
  readonly kdlVersion: KdlVersion | undefined;
}

/**
 * Reads and checks a workflow file (KDL or Actions, by its name), collecting every error.
 * @throws WorkflowFormatError (unknown kind), WorkflowReadError (unreadable file)
 */
export async function checkWorkflowFile(file: string): Promise<WorkflowCheck> {
  const format = workflowFormat(file);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (cause) {
    throw new WorkflowReadError(file, cause);
  }
  if (format === "kdl") {
    const { workflow, errors, kdlVersion } = validateWorkflow(text, file);
    return {
      format,
      workflow: workflow === undefined ? undefined : { format, file, workflow, kdlVersion },
      errors,
      kdlVersion,
    };
  }
  const { workflow, errors } = await validateActionsWorkflow(text, file);
  return {
    format,
    workflow: workflow === undefined ? undefined : { format, file, workflow },
    errors,
    kdlVersion: undefined,
  };
}

/**
 * Reads a workflow file that must be valid.
 * @throws WorkflowInvalidError with every error, WorkflowFormatError, WorkflowReadError
 */
export async function loadWorkflowFile(file: string): Promise<LoadedWorkflow> {
  const { workflow, errors } = await checkWorkflowFile(file);
  if (workflow === undefined || errors.length > 0) throw new WorkflowInvalidError(file, errors);
  return workflow;
}

/** The workflow's `name`, when it has a plain one. */
export function workflowName(loaded: LoadedWorkflow): string | undefined {
  return loaded.workflow.name;
}

/** The jobs, in file order. */
export function jobSummaries(loaded: LoadedWorkflow): JobSummary[] {
  if (loaded.format === "kdl") {
    return loaded.workflow.jobs.map((job) => ({
      id: job.id,
      runsOn: job.runs_on,
      name: undefined,
      steps: job.steps.length,
    }));
  }
  return loaded.workflow.jobs.map((job) => ({
    id: job.id,
    runsOn: actionsValueText(job.runsOn),
    name: actionsValueText(job.name),
    steps: job.steps.length,
  }));
}
