import { DEFAULT_LOG_RETENTION } from "../persistence/job-store.ts";
import { DEFAULT_INTAKE_LIMITS } from "../service/intake-limits.ts";

/** One setting of the orchestrator service: its flag, its environment variable, its default. */
export interface ServiceSetting {
  /** Key in the raw settings (and commander's attribute name of the flag). */
  readonly key: ServiceSettingKey;
  /** Long flag, e.g. `--max-concurrency`. */
  readonly flag: string;
  /** Placeholder in `--help`. */
  readonly arg: string;
  /** Environment variable it falls back to (the original's name where it had one). */
  readonly env: string;
  /** The default, as shown in `--help` and docs/orchestrator.md; undefined when there is none. */
  readonly defaultText?: string | undefined;
  readonly description: string;
  /** Never echoed in errors or logs. */
  readonly secret?: boolean | undefined;
}

/** The keys of the service's own settings (the queue's come from `@solstice/common`'s MQ_SETTINGS). */
export type ServiceSettingKey =
  | "config"
  | "maxConcurrency"
  | "capacityMap"
  | "databaseUrl"
  | "dbPoolMax"
  | "otlpEndpoint"
  | "httpAddr"
  | "httpToken"
  | "httpAllowNoToken"
  | "hostId"
  | "stateDir"
  | "drainTimeoutSecs"
  | "debugSshTtlSecs"
  | "debugSshHost"
  | "runMigrations"
  | "maxJobSteps"
  | "maxStepScriptBytes"
  | "maxEnvEntries"
  | "maxJobRequestBytes"
  | "jobTimeoutSecs"
  | "logRetentionLines"
  | "logRetentionBytes"
  | "warmStarts"
  | "warmPrewarm"
  | "fleetHeartbeatSecs";

/** The default HTTP address: loopback only (the API can cancel jobs); put a proxy in front to expose it. */
export const DEFAULT_HTTP_ADDR = "127.0.0.1:8081";
/** MAX_CONCURRENCY when not given (the original's default). */
export const DEFAULT_MAX_CONCURRENCY = 2;
/** DRAIN_TIMEOUT_SECS when not given. */
export const DEFAULT_DRAIN_TIMEOUT_SECS = 300;
/** JOB_TIMEOUT_SECS when not given: 6 hours, GitHub's default `timeout-minutes`. */
export const DEFAULT_JOB_TIMEOUT_SECS = 21_600;
/** FLEET_HEARTBEAT_SECS when not given. */
export const DEFAULT_FLEET_HEARTBEAT_SECS = 15;
/** Debug SSH keeps a failed job's VM at most this long (ADR-003: 30 minutes, non-renewable). */
export const MAX_DEBUG_SSH_TTL_SECS = 1800;

/** Every setting of the service, in the order `--help` lists them. */
export const SERVICE_SETTINGS: readonly ServiceSetting[] = [
  {
    key: "config",
    flag: "--config",
    arg: "<path>",
    env: "ORCH_CONFIG",
    defaultText: "examples/orchestrator-image-map.yaml",
    description: "image map (YAML): default label, aliases, images",
  },
  {
    key: "maxConcurrency",
    flag: "--max-concurrency",
    arg: "<n>",
    env: "MAX_CONCURRENCY",
    defaultText: String(DEFAULT_MAX_CONCURRENCY),
    description: "jobs (VMs) at once on this host, all labels together; also the AMQP prefetch",
  },
  {
    key: "capacityMap",
    flag: "--capacity-map",
    arg: "<label=n,...>",
    env: "CAPACITY_MAP",
    defaultText: "each label 1",
    description: "jobs at once per label, e.g. illumos-latest=2,ubuntu-22.04=4; unlisted labels get 1",
  },
  {
    key: "databaseUrl",
    flag: "--database-url",
    arg: "<url>",
    env: "DATABASE_URL",
    defaultText: "none: embedded PGlite under STATE_DIR",
    description: "Postgres URL (postgres://user:pass@host:5432/db)",
    secret: true,
  },
  {
    key: "dbPoolMax",
    flag: "--db-pool-max",
    arg: "<n>",
    env: "DB_POOL_MAX_SIZE",
    defaultText: "10",
    description: "most Postgres connections this service opens",
  },
  {
    key: "otlpEndpoint",
    flag: "--otlp",
    arg: "<url>",
    env: "OTEL_EXPORTER_OTLP_ENDPOINT",
    description: "OpenTelemetry OTLP endpoint (e.g. http://localhost:4318); no export when unset",
  },
  {
    key: "httpAddr",
    flag: "--http-addr",
    arg: "<host:port>",
    env: "HTTP_ADDR",
    defaultText: DEFAULT_HTTP_ADDR,
    description: "HTTP API, health and metrics address",
  },
  {
    key: "httpToken",
    flag: "--http-token",
    arg: "<token>",
    env: "HTTP_TOKEN",
    description: "bearer token the HTTP API requires (not /healthz); none when unset",
    secret: true,
  },
  {
    key: "httpAllowNoToken",
    flag: "--http-allow-no-token",
    arg: "<bool>",
    env: "HTTP_ALLOW_NO_TOKEN",
    defaultText: "false",
    description:
      "serve the API without a token on an address beyond loopback (e.g. in a container whose port is published on the host's loopback only)",
  },
  {
    key: "hostId",
    flag: "--host-id",
    arg: "<id>",
    env: "HOST_ID",
    defaultText: "the hostname",
    description: "this orchestrator's id: its jobs and VMs are recorded under it, recovery reclaims them",
  },
  {
    key: "stateDir",
    flag: "--state-dir",
    arg: "<dir>",
    env: "STATE_DIR",
    defaultText: "/var/lib/solstice-ci as root, else $XDG_STATE_HOME/solstice-ci",
    description: "VM work directories and the embedded database",
  },
  {
    key: "drainTimeoutSecs",
    flag: "--drain-timeout-secs",
    arg: "<s>",
    env: "DRAIN_TIMEOUT_SECS",
    defaultText: String(DEFAULT_DRAIN_TIMEOUT_SECS),
    description: "on SIGTERM/SIGINT, how long running jobs may finish before they are cancelled",
  },
  {
    key: "debugSshTtlSecs",
    flag: "--debug-ssh-ttl-secs",
    arg: "<s>",
    env: "DEBUG_SSH_TTL_SECS",
    defaultText: String(MAX_DEBUG_SSH_TTL_SECS),
    description: `how long a failed opted-in job's VM is kept for debug SSH (at most ${MAX_DEBUG_SSH_TTL_SECS})`,
  },
  {
    key: "debugSshHost",
    flag: "--debug-ssh-host",
    arg: "<user@host>",
    env: "DEBUG_SSH_HOST",
    defaultText: "none: connect from this host",
    description:
      "how users reach this host for debug SSH, as an ssh -J jump (guest ports are forwarded on loopback only)",
  },
  {
    key: "runMigrations",
    flag: "--run-migrations",
    arg: "<bool>",
    env: "RUN_MIGRATIONS",
    defaultText: "true",
    description: "apply database migrations at start (the embedded database always does)",
  },
  {
    key: "maxJobSteps",
    flag: "--max-job-steps",
    arg: "<n>",
    env: "MAX_JOB_STEPS",
    defaultText: String(DEFAULT_INTAKE_LIMITS.maxSteps),
    description: "most steps a job request may have; more is refused at intake (dead-lettered)",
  },
  {
    key: "maxStepScriptBytes",
    flag: "--max-step-script-bytes",
    arg: "<bytes>",
    env: "MAX_STEP_SCRIPT_BYTES",
    defaultText: String(DEFAULT_INTAKE_LIMITS.maxStepScriptBytes),
    description: "most bytes of one step's script (run); more is refused at intake",
  },
  {
    key: "maxEnvEntries",
    flag: "--max-env-entries",
    arg: "<n>",
    env: "MAX_ENV_ENTRIES",
    defaultText: String(DEFAULT_INTAKE_LIMITS.maxEnvEntries),
    description: "most variables in one env (the job's, or a step's); more is refused at intake",
  },
  {
    key: "maxJobRequestBytes",
    flag: "--max-job-request-bytes",
    arg: "<bytes>",
    env: "MAX_JOB_REQUEST_BYTES",
    defaultText: String(DEFAULT_INTAKE_LIMITS.maxRequestBytes),
    description: "most bytes of a job request message; a larger one is refused before it is decoded",
  },
  {
    key: "jobTimeoutSecs",
    flag: "--job-timeout-secs",
    arg: "<s>",
    env: "JOB_TIMEOUT_SECS",
    defaultText: String(DEFAULT_JOB_TIMEOUT_SECS),
    description:
      "longest a job may run on this host, boot included; then it fails and its VM is destroyed (a request's shorter timeout_seconds wins)",
  },
  {
    key: "logRetentionLines",
    flag: "--log-retention-lines",
    arg: "<n>",
    env: "LOG_RETENTION_LINES",
    defaultText: String(DEFAULT_LOG_RETENTION.lines),
    description: "log lines kept per job in the database (the newest; the forge keeps the full log)",
  },
  {
    key: "logRetentionBytes",
    flag: "--log-retention-bytes",
    arg: "<bytes>",
    env: "LOG_RETENTION_BYTES",
    defaultText: String(DEFAULT_LOG_RETENTION.bytes),
    description: "log text kept per job in the database, in bytes (the newest lines)",
  },
  {
    key: "warmStarts",
    flag: "--warm-starts",
    arg: "<bool>",
    env: "WARM_STARTS",
    defaultText: "true",
    description:
      "restore jobs' VMs from saved, booted templates of their image (per image: warm_start in the image map)",
  },
  {
    key: "warmPrewarm",
    flag: "--warm-prewarm",
    arg: "<labels>",
    env: "WARM_PREWARM",
    defaultText: "none: templates are built on the first job of an image",
    description: "comma-separated image labels whose warm templates are built at start",
  },
  {
    key: "fleetHeartbeatSecs",
    flag: "--fleet-heartbeat-secs",
    arg: "<s>",
    env: "FLEET_HEARTBEAT_SECS",
    defaultText: String(DEFAULT_FLEET_HEARTBEAT_SECS),
    description:
      "how often this host records itself in the fleet table (labels, capacity, running jobs); stale after 3 missed",
  },
];
