import { describeCause, type MessageIssue, PermanentError, SolsticeError } from "@solstice/common";

// The orchestrator service's errors. Each class has a stable `code` (scripts and tests match on it),
// structured fields naming what went wrong, and a hint the operator can act on.

// ---------------------------------------------------------------------------------------------
// Service: persistence, scheduling, configuration, HTTP API
// ---------------------------------------------------------------------------------------------

/** A migration failed; the database stays at the last migration that succeeded. */
export class MigrationError extends SolsticeError {
  /** The migration that failed, e.g. `0002-vms`; undefined when the migrator failed before any. */
  readonly migration: string | undefined;

  constructor(migration: string | undefined, cause: unknown) {
    super(
      "ORCH_DB_MIGRATION",
      `database migration ${migration ?? "(setup)"} failed: ${describeCause(cause)}`,
      {
        cause,
        hint: "check that the database user may create tables, then run `solstice-orchestrator migrate` again",
      },
    );
    this.migration = migration;
  }
}

/** The embedded database (PGlite) could not be opened under the state directory. */
export class DatabaseOpenError extends SolsticeError {
  readonly dataDir: string;

  constructor(dataDir: string, cause: unknown) {
    super("ORCH_DB_OPEN", `cannot open the embedded database in ${dataDir}: ${describeCause(cause)}`, {
      cause,
      hint: "check STATE_DIR: it must be writable, and only one orchestrator may use it at a time",
    });
    this.dataDir = dataDir;
  }
}

/** No job with this request id is recorded. */
export class JobNotFoundError extends SolsticeError {
  readonly requestId: string;

  constructor(requestId: string) {
    super("ORCH_JOB_NOT_FOUND", `no job with request id ${requestId}`, {
      hint: "list jobs with `ciadm jobs` or GET /v1/jobs",
    });
    this.requestId = requestId;
  }
}

/** A state transition the job's current state does not allow (e.g. `finished` → `running`). */
export class JobStateError extends SolsticeError {
  readonly requestId: string;
  /** The job's state when the transition was attempted. */
  readonly state: string;
  /** The transition attempted: `markRunning`, `finish`, `requeue`, ... */
  readonly transition: string;

  constructor(requestId: string, state: string, transition: string, detail?: string) {
    super(
      "ORCH_JOB_STATE",
      `job ${requestId} is ${state}: ${transition} is not allowed${detail === undefined ? "" : ` (${detail})`}`,
      { hint: "see the job state machine in docs/orchestrator.md" },
    );
    this.requestId = requestId;
    this.state = state;
    this.transition = transition;
  }
}

/** No VM with this name is recorded. */
export class VmNotFoundError extends SolsticeError {
  readonly vmName: string;

  constructor(vmName: string) {
    super("ORCH_VM_NOT_FOUND", `no VM named ${vmName} is recorded`);
    this.vmName = vmName;
  }
}

/** A `CAPACITY_MAP` entry that is not `label=n` with n a positive integer, or a label given twice. */
export class CapacityMapError extends SolsticeError {
  /** The whole value as given. */
  readonly value: string;
  /** The offending entry, as written (trimmed). */
  readonly entry: string;
  /** Its position in the comma-separated list, from 1. */
  readonly position: number;
  readonly reason: string;

  constructor(fields: { value: string; entry: string; position: number; reason: string }) {
    super(
      "ORCH_CAPACITY_MAP_INVALID",
      `CAPACITY_MAP entry ${fields.position} "${fields.entry}": ${fields.reason}`,
      { hint: 'write CAPACITY_MAP as "label=n,label=n", e.g. "ubuntu-24.04=4,omnios-bloody=2" (n >= 1)' },
    );
    this.value = fields.value;
    this.entry = fields.entry;
    this.position = fields.position;
    this.reason = fields.reason;
  }
}

/** A service setting (flag, environment variable or default) that is not valid. */
export class ServiceConfigError extends SolsticeError {
  /** The setting's flag name without dashes, e.g. `max-concurrency`. */
  readonly option: string;
  /** The environment variable it may come from, e.g. `MAX_CONCURRENCY`. */
  readonly env: string | undefined;
  /** The value given, unless it is a secret. */
  readonly value: string | undefined;
  readonly reason: string;

  constructor(fields: {
    option: string;
    env?: string | undefined;
    value?: string | undefined;
    reason: string;
  }) {
    const from = fields.env === undefined ? `--${fields.option}` : `--${fields.option} / ${fields.env}`;
    const shown = fields.value === undefined ? "" : ` (got "${fields.value}")`;
    super("ORCH_CONFIG_INVALID", `${from}: ${fields.reason}${shown}`, {
      hint: "run `solstice-orchestrator --help` for every setting and its default (docs/orchestrator.md)",
    });
    this.option = fields.option;
    this.env = fields.env;
    this.value = fields.value;
    this.reason = fields.reason;
  }
}

/** An HTTP API error: carries the status and the JSON body `{ error: { code, message } }`. */
export class HttpApiError extends SolsticeError {
  readonly statusCode: number;

  constructor(
    statusCode: number,
    code: string,
    message: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super(code, message, options);
    this.statusCode = statusCode;
  }
}

// ---------------------------------------------------------------------------------------------
// (end of the VM lifecycle / execution errors)
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// The running service (src/service)
// ---------------------------------------------------------------------------------------------

/**
 * The service is shutting down and takes no new job: the request goes back to the queue
 * (another orchestrator, or this one after its restart, takes it).
 */
export class OrchestratorStoppingError extends SolsticeError {
  constructor() {
    super("ORCH_STOPPING", "the orchestrator is shutting down; the job request goes back to the queue");
  }
}

/**
 * A job request this host will not run: over a limit (steps, script size, env entries), or a field
 * the VM could never use (commit id, variable names). A PermanentError, so the queue dead-letters
 * it at once with this message, which names each field and the limit, as the reason.
 */
export class JobRequestRefusedError extends PermanentError {
  readonly requestId: string;
  /** Each problem, naming its field (`steps`, `steps[3].run`, `env`, `commit_sha`). */
  readonly issues: readonly MessageIssue[];
  /** The problems as one line, `field: problem; field: problem` (what the job's owner is told). */
  readonly reason: string;

  constructor(requestId: string, issues: readonly MessageIssue[]) {
    const list = issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; ");
    super(`job request ${requestId} refused: ${list}`, {
      code: "ORCH_JOB_REQUEST_REFUSED",
      hint: "split the job or fix the field; an operator may raise the limits (MAX_JOB_STEPS, MAX_STEP_SCRIPT_BYTES, MAX_ENV_ENTRIES, MAX_JOB_REQUEST_BYTES; docs/orchestrator.md)",
    });
    this.requestId = requestId;
    this.issues = issues;
    this.reason = list;
  }
}

/** The service could not start: which part failed, and why. */
export class OrchestratorStartError extends SolsticeError {
  /** The part that failed: `image map`, `database`, `queue`, `recovery`, `HTTP API`, ... */
  readonly part: string;

  constructor(part: string, cause: unknown, hint?: string) {
    super("ORCH_START", `cannot start: ${part}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
      ...(hint !== undefined
        ? { hint }
        : cause instanceof SolsticeError && cause.hint !== undefined
          ? { hint: cause.hint }
          : {}),
    });
    this.part = part;
  }
}
