// @solstice/cidev as a library: what the CLI's commands are made of.
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
export {
  formatJobList,
  formatJobSteps,
  formatTranslation,
  formatWarnings,
  translationJson,
} from "./output/job-text.ts";
export { buildProgram } from "./program.ts";
export { type EmbeddedOrchestratorOptions, startEmbeddedOrchestrator } from "./run/embedded-orchestrator.ts";
export { GitDaemon, GUEST_HOST_ADDRESS } from "./run/git-daemon.ts";
export { CHECKOUT_IMAGE_MAP, imageMapPath } from "./run/image-map-location.ts";
export { formatDuration, JobLogPrinter, stepTitle } from "./run/job-log-printer.ts";
export { cidevOwner, debugBanner, type LocalRunInput, runLocally } from "./run/local-run.ts";
export { prepareRepoSnapshot, type RepoSnapshot, SNAPSHOT_REPO_NAME } from "./run/repo-snapshot.ts";
export {
  openRepositorySource,
  type RepositoryChoice,
  type RepositorySource,
} from "./run/repository-source.ts";
export { actionsValueText } from "./workflow/actions-value-text.ts";
export {
  type JobTranslation,
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
