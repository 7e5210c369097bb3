export { buildProgram, SERVICE_NAME } from "./cli/program.ts";
export { type RegisterOptions, registerRunner } from "./cli/register-command.ts";
export {
  type RunnerDaemon,
  type RunnerDaemonConfig,
  runnerOwner,
  startRunnerDaemon,
} from "./daemon/runner-daemon.ts";
export { RunningTasks, type RunningTasksOptions } from "./daemon/running-tasks.ts";
export {
  AlreadyRegisteredError,
  RunnerStateError,
  TaskTranslationError,
} from "./errors.ts";
export { nextPollDelay, type PollDelaySettings, type PollOutcome } from "./poller/poll-delay.ts";
export { type PollerHealth, TaskPoller, type TaskPollerOptions } from "./poller/task-poller.ts";
export {
  type ForgejoTaskJournal,
  TaskJournalEntrySchema,
  taskJournalSchema,
} from "./report/task-journal-entry.ts";
export {
  resultName,
  TaskReport,
  type TaskReportInit,
  type TaskReportSnapshot,
} from "./report/task-report.ts";
export { TaskReporter, type TaskReporterOptions } from "./report/task-reporter.ts";
export {
  DEFAULT_STATE_FILE,
  type RunnerState,
  RunnerStateSchema,
  readRunnerState,
  runnerStateExists,
  writeRunnerState,
} from "./state/runner-state.ts";
export { contextSecrets, needResult, type RunnerIdentity, taskContexts } from "./task/task-contexts.ts";
export {
  forgejoRunnerEnv,
  type TaskJob,
  type TaskJobRequestInput,
  taskToJobRequest,
} from "./task/task-job-request.ts";
export { RUNNER_VERSION, userAgent } from "./version.ts";
