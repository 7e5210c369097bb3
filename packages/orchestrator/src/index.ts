// Public API of @solstice/orchestrator: the service (intake, scheduler, persistence, recovery,
// HTTP API, debug SSH, embedded mode).
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
export { type RecoveryDeps, type RecoveryReport, recoverHost } from "./recovery/recover-host.ts";
export {
  DEFAULT_MAX_ATTEMPTS,
  type FailDecision,
  type KillDecision,
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
export { endJobOn, type JobEnd, ownerOf, reportJobEnd } from "./service/job-end-report.ts";
export {
  type JobEventChannel,
  type JobEventChannelDeps,
  type JobEventSubject,
  openJobEventChannel,
} from "./service/job-event-channel.ts";
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
export { vmRecordHook } from "./service/vm-record-hook.ts";
