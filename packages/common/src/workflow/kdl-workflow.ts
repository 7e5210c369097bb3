import { readFile } from "node:fs/promises";
import { type WorkflowError, WorkflowReadError } from "../errors.ts";
import { readKdl } from "./kdl-read.ts";
import { KdlSyntaxError } from "./kdl-syntax-error.ts";
import type { KdlVersion } from "./kdl-version.ts";
import { checkWorkflowDocument } from "./workflow-checker.ts";
import type { Workflow } from "./workflow-types.ts";

/** The file name used in messages when none is given. */
export const DEFAULT_WORKFLOW_FILE = "<input>";

/** What `validateWorkflow` found: the workflow when the file is valid, else every error in it. */
export interface WorkflowValidation {
  /** Present exactly when `errors` is empty. */
  readonly workflow: Workflow | undefined;
  /** Every problem found, in file order (a syntax error stops the rest: it is then the only one). */
  readonly errors: readonly WorkflowError[];
  /**
   * The KDL version the file was read as; for a file that is KDL of neither version, the
   * version whose error is reported (its marked version, else the one that got further).
   */
  readonly kdlVersion: KdlVersion;
}

function byPosition(a: WorkflowError, b: WorkflowError): number {
  return a.line - b.line || a.column - b.column;
}

/**
 * Checks a KDL workflow, KDL 1 or KDL 2, and reports every error in it (for `cidev validate`),
 * in file order. A KDL syntax error stops the check: it is then the only error.
 *
 * @example
 *   const { workflow, errors, kdlVersion } = validateWorkflow(text, ".solstice/workflow.kdl");
 *   for (const e of errors) console.error(e.toString()); // .solstice/workflow.kdl:3:5: `step` without `run`
 */
export function validateWorkflow(source: string, file: string = DEFAULT_WORKFLOW_FILE): WorkflowValidation {
  const read = readKdl(source);
  if (!read.ok) {
    const error = new KdlSyntaxError(read.failure, file);
    return { workflow: undefined, errors: [error], kdlVersion: error.kdlVersion };
  }
  const { workflow, errors } = checkWorkflowDocument(read.document, file);
  return { workflow, errors: [...errors].sort(byPosition), kdlVersion: read.document.version };
}

/**
 * Parses a KDL workflow (KDL 1 or 2); throws its first `WorkflowError` (by position) when it has any.
 *
 * @example
 *   const wf = parseWorkflow('workflow { job id="a" { step run="make" } }');
 *   wf.jobs[0]?.steps[0]?.run; // "make"
 */
export function parseWorkflow(source: string, file: string = DEFAULT_WORKFLOW_FILE): Workflow {
  const { workflow, errors } = validateWorkflow(source, file);
  if (errors[0] !== undefined) throw errors[0];
  return workflow!;
}

async function readWorkflowSource(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (cause) {
    throw new WorkflowReadError(path, cause);
  }
}

/** `validateWorkflow` on a file; throws `WorkflowReadError` if it cannot be read. */
export async function validateWorkflowFile(path: string): Promise<WorkflowValidation> {
  return validateWorkflow(await readWorkflowSource(path), path);
}

/** `parseWorkflow` on a file, named by its path in errors; throws `WorkflowReadError` if unreadable. */
export async function parseWorkflowFile(path: string): Promise<Workflow> {
  return parseWorkflow(await readWorkflowSource(path), path);
}

/**
 * `file:line:column: message` for each error, one per line, as `cidev validate` prints them (a
 * syntax error of a file tried as both KDL versions adds its `note:` line).
 */
export function formatWorkflowErrors(errors: readonly WorkflowError[]): string {
  return errors.map((e) => e.toString()).join("\n");
}
