import { SolsticeError } from "@solstice/common";

// The VM engine's errors. Each class has a stable `code` (scripts and tests match on it),
// structured fields naming what went wrong, and a hint the operator can act on.

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

/**
 * The job ran longer than it may: its own `timeout_seconds` (or its workflow's `timeout`), or the
 * host's limit per job. The reason a job's signal is aborted with; the job then fails (it is not
 * `cancelled`: nobody asked) and its VM is destroyed, never kept for debug SSH.
 */
export class JobTimeoutError extends SolsticeError {
  readonly seconds: number;
  /** `job`: the request's (or workflow's) own timeout; `host`: the orchestrator's limit per job. */
  readonly limit: "job" | "host";

  constructor(seconds: number, limit: "job" | "host" = "job") {
    super(
      "ORCH_JOB_TIMEOUT",
      limit === "job"
        ? `the job exceeded its timeout of ${seconds} s`
        : `the job exceeded this host's time limit of ${seconds} s per job`,
      {
        hint:
          limit === "job"
            ? "raise the job's timeout, or make it faster"
            : "split the job, or ask the operator to raise JOB_TIMEOUT_SECS",
      },
    );
    this.seconds = seconds;
    this.limit = limit;
  }
}

/** Whether `signal` was aborted because the job timed out ({@link JobTimeoutError}). */
export function isJobTimeout(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && signal.reason instanceof JobTimeoutError;
}

/** A warm-start template could not be built (the image's cold boot, its settle command, or the save failed). */
export class WarmTemplateError extends SolsticeError {
  readonly label: string;
  readonly stage: string;

  constructor(fields: { label: string; stage: string }, message: string, options?: { cause?: unknown }) {
    super("ORCH_WARM_TEMPLATE", `warm template of ${fields.label}: ${fields.stage}: ${message}`, {
      cause: options?.cause,
      hint: "jobs of this image boot cold meanwhile; check its `settle` command, or set `warm_start: false`",
    });
    this.label = fields.label;
    this.stage = fields.stage;
  }
}

/** Resuming a job's VM from a warm template failed; the job then boots cold. */
export class WarmRestoreError extends SolsticeError {
  readonly label: string;
  readonly stage: "restore" | "ssh" | "key-swap";

  constructor(
    fields: { label: string; stage: "restore" | "ssh" | "key-swap" },
    message: string,
    options?: { cause?: unknown },
  ) {
    super("ORCH_WARM_RESTORE", `warm start of ${fields.label} failed (${fields.stage}): ${message}`, {
      cause: options?.cause,
      hint: "the template is marked bad and rebuilt; the job boots cold",
    });
    this.label = fields.label;
    this.stage = fields.stage;
  }
}

/** The SSH connection dropped and no new one was made within the reconnect budget (or too many drops). */
export class SshReconnectError extends SolsticeError {
  /** How many times this job's connection was re-established before this failure. */
  readonly reconnects: number;

  constructor(message: string, fields: { reconnects: number }, options?: { cause?: unknown }) {
    super(
      "ORCH_SSH_RECONNECT",
      `the SSH connection to the VM dropped and was not re-established: ${message}`,
      {
        cause: options?.cause,
        hint: "the guest's network or SSH server went away for longer than the reconnect budget (`sshReconnectTimeoutMs`); its console log may say why",
      },
    );
    this.reconnects = fields.reconnects;
  }
}

/** What the guest-side step follower sent is not the frame protocol the engine speaks (a broken guest shell or tool). */
export class StepFollowProtocolError extends SolsticeError {
  constructor(message: string) {
    super("ORCH_STEP_FOLLOW_PROTOCOL", `the step's output follower sent ${message}`, {
      hint: "the guest needs a POSIX sh with wc, dd, tail and head -c (busybox, GNU, BSD and illumos have them)",
    });
  }
}
