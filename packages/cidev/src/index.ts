// @solstice/cidev as a library: what the CLI's commands are made of.

export { assignments, KEY_NAME, parseAssignment, VARIABLE_NAME } from "./cli/assignment.ts";
export {
  CidevError,
  classifyCidevError,
  GitRepositoryError,
  JobSelectionError,
  RunLabelError,
  WorkflowFormatError,
  WorkflowInvalidError,
  WorkflowNotFoundError,
} from "./errors.ts";
export {
  forgeNames,
  pathInRepository,
  type RepositoryFacts,
  repositoryFacts,
} from "./git/repository-facts.ts";
export { isRepositoryUrl } from "./git/repository-url.ts";
export { jobStepsJson, type ShownJob, type ShownStep } from "./output/job-json.ts";
export {
  formatJobList,
  formatJobSteps,
  formatTranslation,
  formatWarnings,
  translationJson,
} from "./output/job-text.ts";
export { buildProgram } from "./program.ts";
export { DotenvSyntaxError, parseDotenv } from "./run/dotenv.ts";
export { type EmbeddedOrchestratorOptions, startEmbeddedOrchestrator } from "./run/embedded-orchestrator.ts";
export { GitDaemon, GUEST_HOST_ADDRESS } from "./run/git-daemon.ts";
export {
  CHECKOUT_IMAGE_MAP,
  DEFAULT_IMAGE_MAPS,
  imageMapPath,
  PACKAGED_IMAGE_MAP,
} from "./run/image-map-location.ts";
export { EXIT_INTERRUPTED, Interrupts, unlessInterrupted } from "./run/interrupts.ts";
export { formatDuration, JobLogPrinter, stepTitle } from "./run/job-log-printer.ts";
export { type JobNode, JobOrderError, orderJobs } from "./run/job-order.ts";
export { needFromRuns, type RunResult, renderJobOutputs } from "./run/job-results.ts";
export {
  cidevOwner,
  debugBanner,
  debugSshCommand,
  type LocalJob,
  type LocalJobResult,
  LocalSession,
  type LocalSessionOptions,
} from "./run/local-session.ts";
export { MatrixSelectionError, matrixRowText, matrixValueText, selectMatrixRows } from "./run/matrix-rows.ts";
export { prepareRepoSnapshot, type RepoSnapshot, SNAPSHOT_REPO_NAME } from "./run/repo-snapshot.ts";
export {
  openRepositorySource,
  type RepositoryChoice,
  type RepositorySource,
} from "./run/repository-source.ts";
export { RunEventError, RunInputFileError, type RunInputFlags, runContextsFrom } from "./run/run-inputs.ts";
export {
  HumanRunReporter,
  JsonRunReporter,
  type RunReporter,
  type RunStart,
  type RunSummary,
} from "./run/run-reporter.ts";
export { actionsValueText } from "./workflow/actions-value-text.ts";
export {
  type JobTranslation,
  jobMatrixRows,
  jobNeeds,
  type RunContexts,
  selectJob,
  type TranslationContext,
  translateWorkflowJob,
} from "./workflow/job-translation.ts";
export {
  checkWorkflowFile,
  type JobSummary,
  jobSummaries,
  type LoadedWorkflow,
  loadWorkflowFile,
  type WorkflowCheck,
  workflowName,
} from "./workflow/load-workflow.ts";
export {
  PLACEHOLDER_SHA,
  type TranslationFlags,
  translationContextFor,
} from "./workflow/translation-context.ts";
export { resolveWorkflowPath, type WorkflowFormat, workflowFormat } from "./workflow/workflow-file.ts";
