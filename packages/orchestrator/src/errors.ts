import { SolsticeError } from "@solstice/common";

// The orchestrator's errors. Each class has a stable `code` (scripts and tests match on it),
// structured fields naming what went wrong, and a hint the operator can act on.

// ---------------------------------------------------------------------------------------------
// Image catalog, image fetch, QMP, seed ISO (VM engine building blocks)
// ---------------------------------------------------------------------------------------------

/** Where in an image map file a problem is. `keyPath` is dotted (`images.ubuntu-24.04.decompress`). */
export interface ImageMapLocation {
  readonly file: string;
  readonly keyPath: string;
  readonly line?: number | undefined;
  readonly column?: number | undefined;
}

/**
 * An image map file that is not valid YAML or does not match the schema. The message starts with
 * `file:line:column` (when known) and names the key path.
 */
export class ImageMapError extends SolsticeError {
  readonly file: string;
  readonly keyPath: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** The problem alone, without the location prefix. */
  readonly reason: string;

  constructor(location: ImageMapLocation, reason: string, options?: { cause?: unknown; hint?: string }) {
    const where =
      location.line === undefined
        ? location.file
        : `${location.file}:${location.line}${location.column === undefined ? "" : `:${location.column}`}`;
    const key = location.keyPath === "" ? "" : ` at ${location.keyPath}`;
    super("ORCH_IMAGE_MAP_INVALID", `${where}: ${reason}${key}`, {
      cause: options?.cause,
      hint: options?.hint ?? "fix the image map (see docs/images.md for every key)",
    });
    this.file = location.file;
    this.keyPath = location.keyPath;
    this.line = location.line;
    this.column = location.column;
    this.reason = reason;
  }
}

/** The image map file could not be read at all (missing, unreadable). */
export class ImageMapReadError extends SolsticeError {
  readonly file: string;

  constructor(file: string, cause: unknown) {
    super("ORCH_IMAGE_MAP_READ", `cannot read image map ${file}: ${describeCause(cause)}`, {
      cause,
      hint: "pass an existing file with --config or ORCH_CONFIG",
    });
    this.file = file;
  }
}

/** A label that the image map does not serve (neither an image nor an alias of one). */
export class UnknownImageLabelError extends SolsticeError {
  readonly label: string;
  readonly served: readonly string[];

  constructor(label: string, served: readonly string[]) {
    super("ORCH_IMAGE_LABEL_UNKNOWN", `no image for label "${label}"`, {
      hint: `labels served here: ${served.join(", ") || "(none)"}`,
    });
    this.label = label;
    this.served = served;
  }
}

/** Fetching a base image failed: HTTP status, network, a missing `file://` source, a disk error. */
export class ImageFetchError extends SolsticeError {
  readonly label: string;
  readonly source: string;
  readonly localPath: string;
  /** HTTP status when the server answered with one that is not 2xx. */
  readonly status: number | undefined;

  constructor(
    fields: { label: string; source: string; localPath: string; status?: number | undefined },
    message: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super("ORCH_IMAGE_FETCH_FAILED", `image ${fields.label}: ${message}`, {
      cause: options?.cause,
      hint:
        options?.hint ?? `check the image's source (${fields.source}) and the disk at ${fields.localPath}`,
    });
    this.label = fields.label;
    this.source = fields.source;
    this.localPath = fields.localPath;
    this.status = fields.status;
  }
}

/** The downloaded artifact's SHA-256 is not the one the image map names. */
export class ImageChecksumError extends SolsticeError {
  readonly label: string;
  readonly source: string;
  readonly expected: string;
  readonly actual: string;

  constructor(fields: { label: string; source: string; expected: string; actual: string }) {
    super(
      "ORCH_IMAGE_CHECKSUM_MISMATCH",
      `image ${fields.label}: sha256 mismatch for ${fields.source}: expected ${fields.expected}, got ${fields.actual}`,
      {
        hint: "the download was corrupted or the source changed: update `sha256` in the image map (it is the checksum of the artifact as downloaded, before decompression)",
      },
    );
    this.label = fields.label;
    this.source = fields.source;
    this.expected = fields.expected;
    this.actual = fields.actual;
  }
}

/** The QMP socket could not be reached, or QEMU did not complete the QMP handshake in time. */
export class QmpConnectError extends SolsticeError {
  readonly socketPath: string;

  constructor(socketPath: string, message: string, options?: { cause?: unknown }) {
    super("ORCH_QMP_CONNECT", `QMP ${socketPath}: ${message}`, {
      cause: options?.cause,
      hint: "is QEMU running with -qmp unix:<socket>,server=on,wait=off? Its stderr usually says why it exited",
    });
    this.socketPath = socketPath;
  }
}

/** QEMU answered a QMP command with an error object (`{"error": {"class", "desc"}}`). */
export class QmpCommandError extends SolsticeError {
  readonly command: string;
  /** QMP error class, e.g. `CommandNotFound`, `GenericError`, `DeviceNotFound`. */
  readonly errorClass: string;
  readonly desc: string;

  constructor(command: string, errorClass: string, desc: string) {
    super("ORCH_QMP_COMMAND", `QMP command ${command} failed: ${errorClass}: ${desc}`);
    this.command = command;
    this.errorClass = errorClass;
    this.desc = desc;
  }
}

/** No answer (or no awaited event) within the deadline. */
export class QmpTimeoutError extends SolsticeError {
  /** The command name, or `event:<NAME>` for `waitForEvent`. */
  readonly what: string;
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number) {
    super("ORCH_QMP_TIMEOUT", `QMP ${what}: no answer within ${timeoutMs} ms`, {
      hint: "the guest or QEMU may be hung; stop it with quit or SIGKILL",
    });
    this.what = what;
    this.timeoutMs = timeoutMs;
  }
}

/** The QMP connection closed while a command or an event wait was pending (or before it was sent). */
export class QmpClosedError extends SolsticeError {
  readonly what: string;

  constructor(what: string, options?: { cause?: unknown }) {
    super("ORCH_QMP_CLOSED", `QMP connection closed (${what})`, { cause: options?.cause });
    this.what = what;
  }
}

/** QEMU sent something that is not QMP (bad JSON, an oversized line, an unknown message shape). */
export class QmpProtocolError extends SolsticeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ORCH_QMP_PROTOCOL", `QMP protocol error: ${message}`, { cause: options?.cause });
  }
}

/** A seed ISO that cannot be built (a name ISO 9660 cannot hold, a file too large). */
export class SeedIsoError extends SolsticeError {
  readonly fileName: string | undefined;

  constructor(message: string, options?: { fileName?: string; cause?: unknown }) {
    super("ORCH_SEED_ISO", message, { cause: options?.cause });
    this.fileName = options?.fileName;
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}

// ---------------------------------------------------------------------------------------------
// (end of the VM engine building blocks' errors)
// ---------------------------------------------------------------------------------------------

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
// VM lifecycle, SSH and job execution (vm/, ssh/ssh-session.ts, exec/, vm-engine.ts)
// ---------------------------------------------------------------------------------------------

/** Every port of the SSH forward range is taken (by this process or by something else). */
export class SshPortExhaustedError extends SolsticeError {
  readonly base: number;
  readonly size: number;

  constructor(range: { readonly base: number; readonly size: number }) {
    super(
      "ORCH_SSH_PORT_EXHAUSTED",
      `no free SSH forward port in ${range.base}..${range.base + range.size - 1}`,
      { hint: "lower the concurrency, free ports in that range, or widen it (ssh port base/size)" },
    );
    this.base = range.base;
    this.size = range.size;
  }
}

/** A file the VM needs (base image, kernel, initrd) is missing or unreadable. */
export class VmImageMissingError extends SolsticeError {
  readonly label: string;
  /** Which file: the disk image, or the direct-boot kernel/initrd. */
  readonly what: "disk image" | "kernel" | "initrd";
  readonly path: string;

  constructor(
    fields: { label: string; what: "disk image" | "kernel" | "initrd"; path: string },
    cause?: unknown,
  ) {
    super(
      "ORCH_VM_IMAGE_MISSING",
      `image ${fields.label}: ${fields.what} ${fields.path} is missing or unreadable`,
      {
        cause,
        hint: `fetch the image first (ciadm images pull ${fields.label}) or fix its path in the image map`,
      },
    );
    this.label = fields.label;
    this.what = fields.what;
    this.path = fields.path;
  }
}

/** The VM's work directory cannot be made or used (state dir not writable, socket path too long). */
export class VmWorkDirError extends SolsticeError {
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown; hint?: string }) {
    super("ORCH_VM_WORKDIR", `${path}: ${message}`, {
      cause: options?.cause,
      hint: options?.hint ?? "set the VM state directory to a short, writable path (--vm-state-dir)",
    });
    this.path = path;
  }
}

/** `qemu-img` failed (or is missing); the message quotes its stderr. */
export class QemuImgError extends SolsticeError {
  readonly args: readonly string[];
  readonly stderr: string;

  constructor(args: readonly string[], stderr: string, options?: { cause?: unknown }) {
    super("ORCH_QEMU_IMG", `qemu-img ${args.join(" ")} failed: ${stderr.trim() || "(no output)"}`, {
      cause: options?.cause,
      hint: "check that qemu-img is installed and the base image exists and is of the format the image map says",
    });
    this.args = args;
    this.stderr = stderr;
  }
}

/** QEMU did not start (missing binary, bad image, bad option); the message quotes QEMU's stderr. */
export class QemuStartError extends SolsticeError {
  readonly vmName: string;
  readonly binary: string;
  readonly exitCode: number | null;
  readonly stderr: string;

  constructor(
    fields: { vmName: string; binary: string; exitCode: number | null; stderr: string },
    options?: { cause?: unknown; hint?: string },
  ) {
    const stderr = fields.stderr.trim();
    const status = fields.exitCode === null ? "did not start" : `exited with ${fields.exitCode}`;
    super("ORCH_QEMU_START", `QEMU for VM ${fields.vmName} ${status}: ${stderr || "(no output on stderr)"}`, {
      cause: options?.cause,
      hint: options?.hint ?? `check the image files and the QEMU options; is ${fields.binary} installed?`,
    });
    this.vmName = fields.vmName;
    this.binary = fields.binary;
    this.exitCode = fields.exitCode;
    this.stderr = fields.stderr;
  }
}

/** A lifecycle call on a VM in the wrong state (start a destroyed VM, stop one never started...). */
export class VmStateError extends SolsticeError {
  readonly vmName: string;
  readonly state: string;

  constructor(vmName: string, state: string, action: string) {
    super("ORCH_VM_STATE", `cannot ${action} VM ${vmName}: it is ${state}`);
    this.vmName = vmName;
    this.state = state;
  }
}

/** Formats the last console lines for an error message. */
function quoteConsole(lines: readonly string[]): string {
  if (lines.length === 0) return "\n  (the serial console printed nothing)";
  return `\n  last console lines:\n${lines.map((line) => `  | ${line}`).join("\n")}`;
}

/**
 * The guest never answered on SSH in time, or QEMU exited while we waited. The message quotes
 * the last lines of the serial console, which usually say why (kernel panic, no network, no sshd).
 */
export class GuestUnreachableError extends SolsticeError {
  readonly vmName: string;
  readonly port: number;
  readonly waitedMs: number;
  readonly consoleLines: readonly string[];
  /** Why the last connection attempt failed. */
  readonly lastError: string | undefined;
  /** QEMU's exit status, when it exited while we waited. */
  readonly qemuExit: string | undefined;

  constructor(fields: {
    vmName: string;
    port: number;
    waitedMs: number;
    consoleLines: readonly string[];
    lastError?: string | undefined;
    qemuExit?: string | undefined;
  }) {
    const why =
      fields.qemuExit !== undefined
        ? `QEMU exited (${fields.qemuExit}) before SSH answered`
        : `no SSH answer on 127.0.0.1:${fields.port} within ${Math.round(fields.waitedMs / 1000)} s` +
          (fields.lastError === undefined ? "" : ` (last attempt: ${fields.lastError})`);
    super("ORCH_VM_SSH_UNREACHABLE", `VM ${fields.vmName}: ${why}${quoteConsole(fields.consoleLines)}`, {
      hint: "does the image start an SSH server and accept the key from the NoCloud seed for its ssh_user? A slow (TCG) host may need a longer SSH timeout",
    });
    this.vmName = fields.vmName;
    this.port = fields.port;
    this.waitedMs = fields.waitedMs;
    this.consoleLines = fields.consoleLines;
    this.lastError = fields.lastError;
    this.qemuExit = fields.qemuExit;
  }
}

/** An SSH connection could not be made or was lost. */
export class SshConnectError extends SolsticeError {
  readonly host: string;
  readonly port: number;
  /** True when connecting was stopped on purpose (cancelled, or the VM died) rather than failing. */
  readonly aborted: boolean;

  constructor(host: string, port: number, message: string, options?: { cause?: unknown; aborted?: boolean }) {
    super("ORCH_SSH_CONNECT", `SSH ${host}:${port}: ${message}`, { cause: options?.cause });
    this.host = host;
    this.port = port;
    this.aborted = options?.aborted ?? false;
  }
}

/** A command or file transfer over an established SSH connection failed. */
export class SshCommandError extends SolsticeError {
  /** What was attempted, e.g. `upload /root/.solstice/step-0.sh`. */
  readonly operation: string;

  constructor(operation: string, message: string, options?: { cause?: unknown; hint?: string }) {
    super("ORCH_SSH_COMMAND", `${operation}: ${message}`, options);
    this.operation = operation;
  }
}

/** The workspace could not be prepared: clone/fetch/checkout failed or HEAD is not the commit. */
export class WorkspaceCheckoutError extends SolsticeError {
  readonly repoUrl: string;
  readonly commitSha: string;
  readonly exitCode: number | null;
  /** The checkout's last output lines. */
  readonly output: readonly string[];

  constructor(fields: {
    repoUrl: string;
    commitSha: string;
    exitCode: number | null;
    output: readonly string[];
  }) {
    const tail = fields.output.length === 0 ? "" : `:\n${fields.output.map((l) => `  | ${l}`).join("\n")}`;
    super(
      "ORCH_WORKSPACE_CHECKOUT",
      `checkout of ${fields.repoUrl} at ${fields.commitSha} failed (exit ${fields.exitCode ?? "none"})${tail}`,
      {
        hint: "is the repository reachable from the guest and does it contain the commit? (the host is 10.0.2.2 from the guest)",
      },
    );
    this.repoUrl = fields.repoUrl;
    this.commitSha = fields.commitSha;
    this.exitCode = fields.exitCode;
    this.output = fields.output;
  }
}

/**
 * The job has nothing to run, or its definition is unusable: no `steps`, no `.solstice/job.sh`
 * and no `.solstice/workflow.kdl`; a workflow that does not parse; a job id it does not have.
 */
export class JobDefinitionError extends SolsticeError {
  /** The file in the repository it concerns, when there is one. */
  readonly file: string | undefined;

  constructor(message: string, options?: { file?: string; cause?: unknown; hint?: string }) {
    super("ORCH_JOB_DEFINITION", message, {
      cause: options?.cause,
      hint:
        options?.hint ??
        "send steps in the JobRequest, or add .solstice/job.sh or .solstice/workflow.kdl to the repository",
    });
    this.file = options?.file;
  }
}

/** A step cannot be run as given: a bad `shell` template, an invalid env name, an unsupported `if`. */
export class StepDefinitionError extends SolsticeError {
  readonly step: number;
  readonly field: string;

  constructor(step: number, field: string, message: string, hint?: string) {
    super(
      "ORCH_STEP_DEFINITION",
      `step ${step}: ${field}: ${message}`,
      hint === undefined ? undefined : { hint },
    );
    this.step = step;
    this.field = field;
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
