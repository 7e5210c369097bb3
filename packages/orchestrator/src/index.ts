// --- VM engine building blocks: errors, image catalog and fetch, QMP, seed ISO, SSH keys ---
export {
  ImageChecksumError,
  ImageFetchError,
  ImageMapError,
  type ImageMapLocation,
  ImageMapReadError,
  QmpClosedError,
  QmpCommandError,
  QmpConnectError,
  QmpProtocolError,
  QmpTimeoutError,
  SeedIsoError,
  UnknownImageLabelError,
} from "./errors.ts";
export {
  etaSeconds,
  type FetchProgress,
  formatBytes,
  formatDuration,
  formatProgress,
  logProgress,
  type ProgressLogger,
  type ProgressTerminal,
  progressLogFields,
  RateMeter,
  terminalProgress,
} from "./images/fetch-progress.ts";
export {
  type EnsureImageOptions,
  type EnsureImageResult,
  ensureImage,
  ensureImages,
  isImagePresent,
} from "./images/image-fetch.ts";
export {
  DEFAULT_SSH_USER,
  guessFormat,
  IMAGE_DEFAULTS,
  type ImageEntry,
  type ImageMap,
  type ImageMapFile,
  imageMapFileSchema,
  loadImageMap,
  type ParseImageMapOptions,
  parseImageMap,
  resolveLabel,
  type SizePreset,
  servedLabels,
} from "./images/image-map.ts";
export { expandPath, expandVariables, PathExpansionError } from "./images/path-expansion.ts";
export {
  QmpClient,
  type QmpClientEvents,
  type QmpConnectOptions,
  type QmpExecuteOptions,
  type QmpStatus,
} from "./qmp/qmp-client.ts";
export {
  MAX_QMP_LINE_BYTES,
  parseQmpLine,
  type QmpErrorReply,
  type QmpEvent,
  type QmpGreeting,
  type QmpMessage,
  QmpParser,
  type QmpReturn,
} from "./qmp/qmp-parser.ts";
export {
  JOB_FILE_PATH,
  type JobFileFields,
  renderJobFile,
  renderMetaData,
  renderUserData,
  type UserDataInput,
} from "./seed/cloud-config.ts";
export {
  buildIso9660,
  type IsoFile,
  type IsoOptions,
  levelOneNames,
  SECTOR_SIZE,
} from "./seed/iso9660-writer.ts";
export { buildSeedIso, SEED_VOLUME_ID, type SeedFiles, writeSeedIso } from "./seed/seed-iso.ts";
export {
  type EphemeralKeyPair,
  fingerprintOf,
  formatOpenSshPrivateKey,
  formatPublicKey,
  generateEphemeralKeyPair,
} from "./ssh/ssh-keys.ts";
// --- end VM engine building blocks ---

// --- Service: persistence, scheduling, recovery, HTTP API, configuration ---
export {
  addServiceOptions,
  currentHostFacts,
  defaultStateDir,
  type HostFacts,
  type HttpSettings,
  parseHttpAddr,
  parseServiceConfig,
  type QueueTarget,
  type RawServiceSettings,
  type ServiceConfig,
  serviceConfigFromCommand,
} from "./config/service-config.ts";
export {
  DEFAULT_DRAIN_TIMEOUT_SECS,
  DEFAULT_HTTP_ADDR,
  DEFAULT_MAX_CONCURRENCY,
  MAX_DEBUG_SSH_TTL_SECS,
  SERVICE_SETTINGS,
  type ServiceSetting,
  type ServiceSettingKey,
} from "./config/service-settings.ts";
export {
  CapacityMapError,
  DatabaseOpenError,
  HttpApiError,
  JobNotFoundError,
  JobStateError,
  MigrationError,
  OrchestratorStartError,
  OrchestratorStoppingError,
  ServiceConfigError,
  VmNotFoundError,
} from "./errors.ts";
export {
  buildApp,
  type ErrorBody,
  type HttpApiDeps,
  listenHttpApi,
  type ReadinessProbe,
} from "./http/build-app.ts";
export { Histogram, type HistogramSeries } from "./http/histogram.ts";
export type { JobView, LogLineView, VmView } from "./http/job-views.ts";
export {
  BOOT_DURATION_BUCKETS,
  JOB_DURATION_BUCKETS,
  type MetricsSnapshot,
  OrchestratorMetrics,
} from "./http/orchestrator-metrics.ts";
export {
  type MetricFamily,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
  type Sample,
} from "./http/prometheus-text.ts";
export type { OrchestratorDatabase } from "./persistence/database-schema.ts";
export {
  JOB_STATES,
  type JobOwnerRecord,
  type JobRecord,
  type JobState,
  type LogLine,
  type NewVm,
  UNFINISHED_JOB_STATES,
  VM_STATES,
  type VmRecord,
  type VmState,
  type VmUpdate,
} from "./persistence/job-records.ts";
export {
  type AcceptOutcome,
  DEFAULT_LOG_RETENTION,
  type FinishOutcome,
  JobStore,
  type JobStoreOptions,
  type ListJobsQuery,
  type LogQuery,
} from "./persistence/job-store.ts";
export {
  appliedMigrations,
  knownMigrations,
  MIGRATION_TABLE,
  migrateToLatest,
} from "./persistence/migrate.ts";
export {
  type DatabaseTarget,
  databaseTarget,
  describeDatabaseTarget,
  openDatabase,
} from "./persistence/open-database.ts";
export { openPgliteDb } from "./persistence/pglite-db.ts";
export { REDACTED, type RedactedRequest, redactJobRequest } from "./persistence/redact-request.ts";
export {
  findQemuProcesses,
  isQemuCommand,
  killAndWait,
  probeVmProcess,
  readCommandLine,
} from "./recovery/process-probe.ts";
export { type RecoveryDeps, type RecoveryReport, recoverHost } from "./recovery/recover-host.ts";
export {
  DEFAULT_MAX_ATTEMPTS,
  type FailDecision,
  type FoundProcess,
  type KillDecision,
  type ProcessStatus,
  planRecovery,
  RESTART_REASON,
  type RecoveryInput,
  type RecoveryPlan,
} from "./recovery/recovery-plan.ts";
export { formatCapacityMap, parseCapacityMap } from "./scheduling/capacity-map.ts";
export {
  type CapacityLimits,
  CapacityScheduler,
  type CapacitySnapshot,
  DEFAULT_LABEL_CAPACITY,
  type LabelCapacity,
  type Schedulable,
} from "./scheduling/capacity-scheduler.ts";
// --- The running service (startOrchestrator: fleet and embedded mode; `cidev run` uses it) ---
export { type Admission, AdmissionGate } from "./service/admission-gate.ts";
export { CancelListener, type CancelListenerOptions } from "./service/cancel-listener.ts";
export { DebugHolds } from "./service/debug-holds.ts";
export { DEBUG_KEY_FILE, DebugSsh, type DebugSshOptions } from "./service/debug-ssh.ts";
export { DEBUG_SSH_KEY_ENV, type DebugSshKeys, parseDebugSshKeys } from "./service/debug-ssh-keys.ts";
export {
  type DebugHold,
  type DebugHoldDecision,
  debugSshLine,
  decideDebugHold,
  projectKey,
} from "./service/debug-ssh-policy.ts";
export {
  type JobEnd,
  type JobEndReportDeps,
  type JobEndSubject,
  ownerOf,
  reportJobEnd,
} from "./service/job-end-report.ts";
export { JobEventRecorder, type JobEventRecorderOptions } from "./service/job-event-recorder.ts";
export { JobIntake, type JobIntakeOptions } from "./service/job-intake.ts";
export {
  type CancelOutcome,
  JobRunner,
  type JobRunnerOptions,
  type QueuedJob,
} from "./service/job-runner.ts";
export {
  migrateDatabase,
  type OrchestratorDeps,
  type RunningOrchestrator,
  SERVICE_NAME,
  startOrchestrator,
} from "./service/orchestrator-service.ts";
export { type ShutdownParts, type ShutdownReport, shutdown } from "./service/shutdown.ts";
export { recoverOnStart, type StartupRecoveryDeps } from "./service/startup-recovery.ts";
export { onStopSignals, type StopSignalHandlers } from "./service/stop-signals.ts";
export { vmRecordHook } from "./service/vm-record-hook.ts";
// --- end running service ---
// --- end service ---

// --- VM lifecycle, SSH and job execution (vm/, ssh/ssh-session.ts, exec/, io/, vm-engine.ts) ---
export {
  GuestUnreachableError,
  JobDefinitionError,
  QemuImgError,
  QemuStartError,
  SshCommandError,
  SshConnectError,
  SshPortExhaustedError,
  StepDefinitionError,
  VmImageMissingError,
  VmStateError,
  VmWorkDirError,
  WorkspaceCheckoutError,
} from "./errors.ts";
export {
  type KeyValueFile,
  parseKeyValueFile,
  parsePathFile,
  type StepFileCommands,
  stepFileCommands,
} from "./exec/file-commands.ts";
export {
  type GuestLayout,
  guestLayout,
  RUN_DIR_NAME,
  RUNNER_TEMP_NAME,
  resolveWorkingDirectory,
  runnerTempDir,
  WORKSPACE_DIR_NAME,
} from "./exec/guest-layout.ts";
export { JobEventEmitter, type JobEventSink } from "./exec/job-events.ts";
export {
  abortReason,
  type ExecuteJobOptions,
  executeJob,
  type JobExecution,
  type StepResult,
  stepDisplayName,
} from "./exec/job-executor.ts";
export {
  JOB_SCRIPT_PATH,
  JOB_SCRIPT_STEP,
  type JobPlan,
  planFromJobScript,
  planFromRequest,
  planFromWorkflowKdl,
  WORKFLOW_KDL_PATH,
} from "./exec/job-plan.ts";
export { JobRunState } from "./exec/job-run-state.ts";
export { isValidEnvName, renderEnvExports, shQuote } from "./exec/shell-quote.ts";
export { type StepEnvironmentInput, stepEnvironment } from "./exec/step-environment.ts";
export { runStep, type StepOutcome, type StepRunInput } from "./exec/step-runner.ts";
export {
  RUNNER_SCRIPT,
  renderKillCommand,
  renderShellCommand,
  renderStepFiles,
  type StepFiles,
  type StepScriptInput,
  shellTemplate,
} from "./exec/step-script.ts";
export {
  CHECKOUT_DONE_MARKER,
  renderWorkspaceScript,
  WORKSPACE_MARKER,
  type WorkspaceScriptInput,
} from "./exec/workspace-script.ts";
export { resolveCarriageReturns, stripControlSequences } from "./io/control-chars.ts";
export { LineSplitter, type LineSplitterOptions } from "./io/line-splitter.ts";
export {
  type ExecOptions,
  type ExecResult,
  type RunResult,
  type SshConnectOptions,
  type SshRetryOptions,
  SshSession,
} from "./ssh/ssh-session.ts";
export {
  type AccelDecision,
  type AccelMode,
  type AccelProbeLogger,
  clearAccelProbeCache,
  type KvmProbeOptions,
  probeKvm,
  resolveAccel,
} from "./vm/accel-probe.ts";
export { ConsoleTailer, type ConsoleTailerEvents, type ConsoleTailerOptions } from "./vm/console-tailer.ts";
export { type Accel, buildQemuArgs, type QemuCommandSpec, qemuOptionValue } from "./vm/qemu-command.ts";
export { createOverlay, imageVirtualSize, type QemuImgOptions } from "./vm/qemu-img.ts";
export { QemuHypervisor, type QemuHypervisorOptions, type WaitForSshOptions } from "./vm/qemu-vm.ts";
export {
  DEFAULT_SSH_PORT_RANGE,
  fnv1a32,
  preferredSshPort,
  type SshPortRange,
  sshPortCandidates,
  validateSshPortRange,
} from "./vm/ssh-port.ts";
export { isLoopbackPortFree, SshPortAllocator } from "./vm/ssh-port-allocator.ts";
export { defaultVmStateDir, SYSTEM_VM_STATE_DIR, userVmStateDir } from "./vm/state-dir.ts";
export { VmCredentials } from "./vm/vm-credentials.ts";
export { type EngineLogger, silentLogger } from "./vm/vm-logger.ts";
export { type VmResources, vmNameFor, vmSpecFor } from "./vm/vm-spec.ts";
export type { Hypervisor, VmHandle, VmImage, VmSpec, VmState as VmLifecycleState } from "./vm/vm-types.ts";
export {
  type JobRunResult,
  type KeepVmContext,
  type RunJobOptions,
  VmEngine,
  type VmEngineOptions,
} from "./vm-engine.ts";
// --- end VM lifecycle, SSH and job execution ---
