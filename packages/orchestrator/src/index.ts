// Public API of @solstice/orchestrator: the service (intake, scheduler, persistence, recovery,
// HTTP API, debug SSH, embedded mode).
export {
  currentHostFacts,
  defaultStateDir,
  parseServiceConfig,
  type ServiceConfig,
} from "./config/service-config.ts";
export { MAX_DEBUG_SSH_TTL_SECS, SERVICE_SETTINGS, type ServiceSetting } from "./config/service-settings.ts";
export {
  CapacityMapError,
  DatabaseOpenError,
  HttpApiError,
  JobNotFoundError,
  JobRequestRefusedError,
  JobStateError,
  MigrationError,
  OrchestratorStartError,
  OrchestratorStoppingError,
  ServiceConfigError,
  VmNotFoundError,
} from "./errors.ts";
export { buildApp, type HttpApiDeps } from "./http/build-app.ts";
export type { JobRecord, JobState, VmRecord } from "./persistence/job-records.ts";
export { JobStore } from "./persistence/job-store.ts";
export { appliedMigrations, knownMigrations, migrateToLatest } from "./persistence/migrate.ts";
export {
  type DatabaseTarget,
  databaseTarget,
  describeDatabaseTarget,
  openDatabase,
} from "./persistence/open-database.ts";
export { createPostgresDb, type PostgresOptions } from "./persistence/postgres-db.ts";
export { DEBUG_KEY_FILE } from "./service/debug-ssh.ts";
export { DEFAULT_INTAKE_LIMITS, type IntakeLimits } from "./service/intake-limits.ts";
export {
  type OrchestratorDeps,
  type RunningOrchestrator,
  SERVICE_NAME,
  startOrchestrator,
} from "./service/orchestrator-service.ts";
