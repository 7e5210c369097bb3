export { type KdlJobRequestFields, kdlJobRequestFields, kdlJobToSteps } from "./kdl-job-steps.ts";
export { type KdlOtherVersionError, KdlSyntaxError } from "./kdl-syntax-error.ts";
export { type KdlVersion, kdlVersionMarker } from "./kdl-version.ts";
export {
  DEFAULT_WORKFLOW_FILE,
  formatWorkflowErrors,
  parseWorkflow,
  parseWorkflowFile,
  validateWorkflow,
  validateWorkflowFile,
  type WorkflowValidation,
} from "./kdl-workflow.ts";
export type { SourceLocation, Workflow, WorkflowJob, WorkflowStep } from "./workflow-types.ts";
