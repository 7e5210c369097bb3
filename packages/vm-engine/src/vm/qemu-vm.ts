import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ServiceLogger } from "@solstice/common";
import { silentLogger } from "@solstice/common";
import {
  GuestUnreachableError,
  QemuStartError,
  SshConnectError,
  VmImageMissingError,
  VmStateError,
  VmWorkDirError,
} from "../errors.ts";
import { shQuote } from "../exec/shell-quote.ts";
import { QmpClient } from "../qmp/qmp-client.ts";
import { renderMetaData, renderUserData } from "../seed/cloud-config.ts";
import { writeSeedIso } from "../seed/seed-iso.ts";
import { type EphemeralKeyPair, generateEphemeralKeyPair } from "../ssh/ssh-keys.ts";
import { SshSession } from "../ssh/ssh-session.ts";
import { resolveAccel } from "./accel-probe.ts";
import { ConsoleTailer } from "./console-tailer.ts";
import { buildQemuArgs } from "./qemu-command.ts";
import { createOverlay } from "./qemu-img.ts";
import { killVmQemu } from "./qemu-processes.ts";
import type { SshPortRange } from "./ssh-port.ts";
import { SshPortAllocator } from "./ssh-port-allocator.ts";
import { defaultVmStateDir } from "./state-dir.ts";
import { VmCredentials } from "./vm-credentials.ts";
import type { ConnectGuestOptions, Hypervisor, VmHandle, VmSpec, VmState } from "./vm-types.ts";

// The QEMU backend of the VM lifecycle (ADR-002: QEMU directly, driven over QMP, no libvirt).
//   prepare  0700 work dir, qcow2 overlay on the base image, NoCloud seed ISO, in-memory key pair
//   start    QEMU spawned paused, QMP + console connected, then `cont`
//   stop     QMP system_powerdown → SHUTDOWN/exit within the grace → QMP quit → SIGKILL
//   destroy  process gone, work dir removed, port released, key forgotten (idempotent)

/** Options of {@link QemuHypervisor}. */
export interface QemuHypervisorOptions {
  /** Parent of the VM work directories. Default: see `defaultVmStateDir`. */
  readonly stateDir?: string;
  readonly qemuBinary?: string;
  readonly qemuImg?: string;
  /** Default 10022 + hash % 100. Ignored when `portAllocator` is given. */
  readonly sshPortRange?: SshPortRange;
  readonly portAllocator?: SshPortAllocator;
  readonly logger?: ServiceLogger;
  /** Budget for QEMU to come up and answer on QMP. Default 15 s. */
  readonly startTimeoutMs?: number;
  /** Console lines kept for error messages. Default 50. */
  readonly consoleLines?: number;
  /** Deadline of the KVM probe guest (see accel-probe.ts). Default 3 s. */
  readonly kvmProbeTimeoutMs?: number;
  /** Budget for loading a warm template's saved state (`-incoming`). Default 120 s. */
  readonly restoreTimeoutMs?: number;
}

/** Options of {@link QemuHypervisor.prepare} beyond the spec (warm starts, see src/warm). */
export interface QemuPrepareOptions {
  /** Authorise this key pair in the seed instead of a fresh one (a warm-start template's boot). */
  readonly keys?: EphemeralKeyPair;
  /**
   * Resume a warm template instead of booting: the overlay is made on the template's frozen disk,
   * the template's own seed is attached (the device configuration must not change), and QEMU
   * starts with `-incoming` from its state file. The handle's key is still a fresh one.
   */
  readonly restore?: RestoreSource;
}

/** A warm template's files, as a restore needs them. */
export interface RestoreSource {
  /** The template's frozen qcow2 overlay (backed by the base image). */
  readonly diskPath: string;
  /** The seed ISO the template booted with. */
  readonly seedPath: string;
  /** The saved VM state (QMP `migrate` output). */
  readonly statePath: string;
}

/** Options of {@link QemuHypervisor.connectSsh}. */
export interface WaitForSshOptions {
  /** Total budget. Default 120 s. */
  readonly timeoutMs?: number;
  /** Budget of one attempt. Default 20 s. */
  readonly attemptTimeoutMs?: number;
  readonly signal?: AbortSignal | undefined;
}

interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: Error;
}

interface VmRuntime {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  exit: ExitInfo | undefined;
  qmp: QmpClient | undefined;
  console: ConsoleTailer | undefined;
}

/** Longest UNIX socket path Linux accepts (sun_path is 108 bytes with the NUL). */
const MAX_SOCKET_PATH = 107;
const DEFAULT_GRACEFUL_STOP_MS = 10_000;

/**
 * VMs as QEMU processes on this host.
 *
 * @example
 *   const hv = new QemuHypervisor({ logger });
 *   let vm = await hv.prepare(spec);
 *   try {
 *     vm = await hv.start(vm);
 *     const ssh = await hv.connectSsh(vm, { timeoutMs: 120_000 });
 *     // ...
 *     vm = await hv.stop(vm);
 *   } finally {
 *     await hv.destroy(vm);
 *   }
 */
export class QemuHypervisor implements Hypervisor {
  readonly qemuBinary: string;
  readonly ports: SshPortAllocator;
  readonly #options: QemuHypervisorOptions;
  readonly #logger: ServiceLogger;
  readonly #runtimes = new Map<string, VmRuntime>();
  #stateDir: Promise<string> | undefined;

  constructor(options: QemuHypervisorOptions = {}) {
    this.#options = options;
    this.qemuBinary = options.qemuBinary ?? "qemu-system-x86_64";
    this.ports = options.portAllocator ?? new SshPortAllocator(options.sshPortRange);
    this.#logger = options.logger ?? silentLogger;
  }

  /** The directory VM work directories are made in (created when missing). */
  stateDir(): Promise<string> {
    this.#stateDir ??= (async () => {
      const dir = this.#options.stateDir;
      if (dir === undefined) return defaultVmStateDir();
      try {
        await mkdir(dir, { recursive: true, mode: 0o700 });
      } catch (error) {
        throw new VmWorkDirError(dir, "cannot create the VM state directory", { cause: error });
      }
      return dir;
    })();
    return this.#stateDir;
  }

  async prepare(spec: VmSpec, options: QemuPrepareOptions = {}): Promise<VmHandle> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(spec.name)) {
      throw new VmWorkDirError(spec.name, "a VM name may hold letters, digits, '.', '_' and '-' only");
    }
    await checkReadable(spec.image.label, "disk image", spec.image.diskPath);
    if (spec.image.kernel !== undefined) await checkReadable(spec.image.label, "kernel", spec.image.kernel);
    if (spec.image.initrd !== undefined) await checkReadable(spec.image.label, "initrd", spec.image.initrd);

    const accel = await resolveAccel(spec.accel, {
      qemuBinary: this.qemuBinary,
      logger: this.#logger,
      ...(this.#options.kvmProbeTimeoutMs === undefined
        ? {}
        : { timeoutMs: this.#options.kvmProbeTimeoutMs }),
    });
    const workDir = join(await this.stateDir(), spec.name);
    const paths = {
      overlayPath: join(workDir, "overlay.qcow2"),
      seedPath: join(workDir, "seed.iso"),
      qmpSocket: join(workDir, "qmp.sock"),
      consoleSocket: join(workDir, "console.sock"),
      pidFile: join(workDir, "qemu.pid"),
      stderrLog: join(workDir, "qemu.stderr"),
    };
    for (const socket of [paths.qmpSocket, paths.consoleSocket]) {
      if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
        throw new VmWorkDirError(socket, `UNIX socket path longer than ${MAX_SOCKET_PATH} bytes`);
      }
    }
    try {
      await mkdir(workDir, { mode: 0o700 });
    } catch (error) {
      const exists = (error as NodeJS.ErrnoException).code === "EEXIST";
      throw new VmWorkDirError(
        workDir,
        exists ? "a VM of this name already exists" : "cannot create the work directory",
        {
          cause: error,
          ...(exists
            ? { hint: "VM names must be unique; destroy the old VM first (or remove its directory)" }
            : {}),
        },
      );
    }

    let sshPort: number | undefined;
    try {
      sshPort = await this.ports.allocate(spec.name);
      const restore = options.restore;
      await createOverlay(
        restore === undefined
          ? { path: spec.image.diskPath, format: spec.image.format }
          : { path: restore.diskPath, format: "qcow2" },
        paths.overlayPath,
        spec.diskGb,
        {
          ...(this.#options.qemuImg === undefined ? {} : { qemuImg: this.#options.qemuImg }),
        },
      );
      const keys = options.keys ?? generateEphemeralKeyPair(`solstice-${spec.name}`);
      if (restore === undefined) {
        await writeSeedIso(paths.seedPath, {
          userData: renderUserData({ sshUser: spec.sshUser, sshPublicKey: keys.publicKey, job: spec.job }),
          metaData: renderMetaData({ instanceId: spec.name, hostname: spec.name }),
        });
      } else {
        // The restored guest has the template's seed mounted: the same medium stays in the drive.
        paths.seedPath = restore.seedPath;
      }
      const credentials = new VmCredentials({
        user: spec.sshUser,
        publicKey: keys.publicKey,
        fingerprint: keys.fingerprint,
        privateKey: keys.privateKey,
      });
      this.#logger.info(
        { vm: spec.name, label: spec.image.label, accel, sshPort, workDir, key: keys.fingerprint },
        "VM prepared",
      );
      return Object.freeze({
        name: spec.name,
        state: "prepared",
        spec,
        accel,
        workDir,
        ...paths,
        sshPort,
        pid: undefined,
        credentials,
        ...(options.restore === undefined
          ? {}
          : { incoming: `exec:cat ${shQuote(options.restore.statePath)}` }),
      });
    } catch (error) {
      await rm(workDir, { recursive: true, force: true });
      if (sshPort !== undefined) this.ports.release(sshPort);
      throw error;
    }
  }

  async start(vm: VmHandle): Promise<VmHandle> {
    const state = this.state(vm);
    if (state !== "prepared" && state !== "stopped") throw new VmStateError(vm.name, state, "start");
    let handle = vm;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#startOnce(handle);
      } catch (error) {
        // The port was free when probed but taken before QEMU bound it: move on to another one.
        if (error instanceof QemuStartError && /host ?forward/i.test(error.stderr) && attempt < 3) {
          const port = await this.ports.allocate(vm.name, { exclude: [handle.sshPort] });
          this.ports.release(handle.sshPort);
          this.#logger.warn(
            { vm: vm.name, from: handle.sshPort, to: port },
            "SSH port taken meanwhile; retrying",
          );
          handle = Object.freeze({ ...handle, sshPort: port });
          continue;
        }
        throw error;
      }
    }
  }

  async #startOnce(vm: VmHandle): Promise<VmHandle> {
    const spec = vm.spec;
    const args = buildQemuArgs({
      name: vm.name,
      accel: vm.accel,
      cpu: spec.cpu,
      ramMb: spec.ramMb,
      overlayPath: vm.overlayPath,
      seedPath: vm.seedPath,
      qmpSocket: vm.qmpSocket,
      consoleSocket: vm.consoleSocket,
      pidFile: vm.pidFile,
      sshPort: vm.sshPort,
      kernel: spec.image.kernel,
      initrd: spec.image.initrd,
      append: spec.image.append,
      // Paused until the console is connected: no boot line is lost.
      paused: true,
      incoming: vm.incoming,
    });
    await rm(vm.qmpSocket, { force: true });
    await rm(vm.consoleSocket, { force: true });
    const stderrFile = await open(vm.stderrLog, "w", 0o600);
    let child: ChildProcess;
    let exited: Promise<ExitInfo>;
    try {
      child = spawn(this.qemuBinary, args, { stdio: ["ignore", "ignore", stderrFile.fd], detached: true });
      // Listen before anything is awaited: a spawn failure (ENOENT) is emitted on the next tick.
      exited = new Promise<ExitInfo>((resolve) => {
        child.once("exit", (code, signal) => resolve({ code, signal }));
        child.once("error", (error) => resolve({ code: null, signal: null, error }));
      });
    } finally {
      await stderrFile.close();
    }
    const runtime: VmRuntime = { child, exited, exit: undefined, qmp: undefined, console: undefined };
    void runtime.exited.then((exit) => {
      runtime.exit = exit;
      this.#logger.info({ vm: vm.name, code: exit.code, signal: exit.signal }, "QEMU exited");
    });
    this.#runtimes.set(vm.name, runtime);

    const startTimeoutMs = this.#options.startTimeoutMs ?? 15_000;
    const qmpAttempt = QmpClient.connect(vm.qmpSocket, { timeoutMs: startTimeoutMs });
    const first = await Promise.race([
      qmpAttempt.then(
        (qmp) => ({ qmp }) as const,
        (error: unknown) => ({ qmpError: error }) as const,
      ),
      runtime.exited.then((exit) => ({ exit }) as const),
    ]);
    if ("exit" in first || "qmpError" in first) {
      void qmpAttempt.then((qmp) => qmp.close()).catch(() => undefined);
      if (!("exit" in first)) {
        child.kill("SIGKILL");
      }
      const exit = await runtime.exited;
      this.#runtimes.delete(vm.name);
      const stderr = await readText(vm.stderrLog);
      throw new QemuStartError(
        {
          vmName: vm.name,
          binary: this.qemuBinary,
          exitCode: exit.code,
          stderr: exit.error !== undefined ? `${exit.error.message}\n${stderr}` : stderr,
        },
        {
          cause: "qmpError" in first ? first.qmpError : exit.error,
          ...("qmpError" in first && exit.error === undefined
            ? {
                hint: `QEMU did not answer on QMP within ${startTimeoutMs} ms (killed); is the host overloaded?`,
              }
            : {}),
        },
      );
    }
    runtime.qmp = first.qmp;
    try {
      runtime.console = await ConsoleTailer.connect(vm.consoleSocket, {
        keepLines: this.#options.consoleLines ?? 50,
        timeoutMs: 5000,
      });
      if (vm.incoming !== undefined) await this.#awaitIncoming(vm, runtime, first.qmp);
      await first.qmp.execute("cont");
    } catch (error) {
      child.kill("SIGKILL");
      await runtime.exited;
      await this.#closeConnections(runtime);
      this.#runtimes.delete(vm.name);
      throw new QemuStartError(
        { vmName: vm.name, binary: this.qemuBinary, exitCode: null, stderr: await readText(vm.stderrLog) },
        { cause: error, hint: `could not attach the serial console or resume the VM: ${String(error)}` },
      );
    }
    this.#logger.info({ vm: vm.name, pid: child.pid, sshPort: vm.sshPort, accel: vm.accel }, "VM started");
    return Object.freeze({ ...vm, state: "running" as const, pid: child.pid });
  }

  /**
   * Wait until QEMU has loaded the saved state (`-incoming`): it leaves the `inmigrate` state, or
   * exits when the state cannot be loaded (then the caller reports QEMU's stderr).
   */
  async #awaitIncoming(vm: VmHandle, runtime: VmRuntime, qmp: QmpClient): Promise<void> {
    const timeoutMs = this.#options.restoreTimeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      if (runtime.exit !== undefined)
        throw new Error(`QEMU ${describeExit(runtime.exit)} while loading the state`);
      const status = await qmp.queryStatus({ timeoutMs: 10_000 });
      if (status.status !== "inmigrate") {
        if (status.status !== "paused" && status.status !== "prelaunch" && !status.running) {
          throw new Error(`QEMU is ${status.status} after loading the state of ${vm.name}`);
        }
        return;
      }
      if (Date.now() > deadline) throw new Error(`the saved state did not load within ${timeoutMs} ms`);
      await Promise.race([sleep(delay), runtime.exited]);
    }
  }

  /** The VM's serial console while it runs (undefined otherwise). */
  console(vm: VmHandle): ConsoleTailer | undefined {
    return this.#runtimes.get(vm.name)?.console;
  }

  /** The VM's QMP connection while it runs (undefined otherwise). */
  qmp(vm: VmHandle): QmpClient | undefined {
    return this.#runtimes.get(vm.name)?.qmp;
  }

  /**
   * The guest's shell: {@link connectSsh}, with the SFTP channel opening at once, so that the
   * first upload does not wait for it (it overlaps the workspace checkout; guests under TCG are slow).
   */
  async connectGuest(vm: VmHandle, options: ConnectGuestOptions): Promise<SshSession> {
    const session = await this.connectSsh(vm, options);
    void session.hasSftp();
    return session;
  }

  /**
   * Wait until the guest accepts the per-job key over SSH, retrying with backoff. A guest that
   * does not answer in time, or whose QEMU exits meanwhile, gives {@link GuestUnreachableError}
   * quoting the last console lines. Cancelled through `signal` (then an aborted SshConnectError).
   */
  async connectSsh(vm: VmHandle, options: WaitForSshOptions = {}): Promise<SshSession> {
    const runtime = this.#runtimes.get(vm.name);
    if (runtime === undefined || runtime.exit !== undefined)
      throw new VmStateError(vm.name, this.state(vm), "reach");
    const timeoutMs = options.timeoutMs ?? 120_000;
    const started = Date.now();
    try {
      const session = await SshSession.connectWithRetry({
        host: "127.0.0.1",
        port: vm.sshPort,
        username: vm.credentials.user,
        privateKey: vm.credentials.privateKey(),
        timeoutMs,
        readyTimeoutMs: options.attemptTimeoutMs ?? 20_000,
        signal: options.signal,
        giveUp: () => (runtime.exit === undefined ? undefined : describeExit(runtime.exit)),
        onAttemptFailed: (attempt, error) =>
          this.#logger.debug({ vm: vm.name, attempt, error: error.message }, "SSH not up yet"),
      });
      this.#logger.info({ vm: vm.name, waitedMs: Date.now() - started }, "SSH is up");
      return session;
    } catch (error) {
      if (options.signal?.aborted) throw error;
      // Give the console a moment to deliver QEMU's last words.
      if (runtime.exit !== undefined) await Promise.race([runtime.console?.whenClosed(), sleep(200)]);
      const lastError =
        error instanceof SshConnectError && error.cause instanceof Error ? error.cause.message : undefined;
      throw new GuestUnreachableError({
        vmName: vm.name,
        port: vm.sshPort,
        waitedMs: Date.now() - started,
        consoleLines: runtime.console?.lastLines(20) ?? [],
        lastError,
        qemuExit: runtime.exit === undefined ? undefined : describeExit(runtime.exit),
      });
    }
  }

  async stop(vm: VmHandle, options: { gracefulTimeoutMs?: number } = {}): Promise<VmHandle> {
    if (vm.state === "destroyed") throw new VmStateError(vm.name, "destroyed", "stop");
    const runtime = this.#runtimes.get(vm.name);
    if (runtime === undefined)
      return Object.freeze({
        ...vm,
        state: vm.state === "prepared" ? "prepared" : "stopped",
        pid: undefined,
      });
    const grace = options.gracefulTimeoutMs ?? DEFAULT_GRACEFUL_STOP_MS;
    const exited = runtime.exited;
    const exitedWithin = async (ms: number): Promise<boolean> =>
      ms > 0 && (await Promise.race([exited.then(() => true), sleep(ms).then(() => false)]));

    let how = "already exited";
    if (runtime.exit === undefined) {
      how = "powered off";
      const qmp = runtime.qmp;
      let graceful = false;
      if (qmp !== undefined && !qmp.closed && grace > 0) {
        try {
          const shutdown = qmp.waitForEvent("SHUTDOWN", grace).then(
            () => true,
            () => false,
          );
          await qmp.systemPowerdown({ timeoutMs: Math.min(grace, 5000) });
          graceful = await Promise.race([shutdown, exited.then(() => true)]);
        } catch {
          graceful = false;
        }
      }
      // After SHUTDOWN, QEMU exits by itself; give it a moment.
      if (!(graceful && (await exitedWithin(3000)))) {
        how = "quit over QMP";
        if (qmp !== undefined && !qmp.closed) {
          await qmp.quit({ timeoutMs: 2000 }).catch(() => undefined);
        }
        if (!(await exitedWithin(5000))) {
          how = "killed";
          runtime.child.kill("SIGKILL");
          await exited;
        }
      }
    }
    await this.#closeConnections(runtime);
    this.#logger.info({ vm: vm.name, how }, "VM stopped");
    return Object.freeze({ ...vm, state: "stopped" as const, pid: undefined });
  }

  async destroy(vm: VmHandle): Promise<VmHandle> {
    const runtime = this.#runtimes.get(vm.name);
    if (runtime !== undefined) {
      if (runtime.exit === undefined) {
        runtime.child.kill("SIGKILL");
        await runtime.exited;
      }
      await this.#closeConnections(runtime);
      this.#runtimes.delete(vm.name);
    } else if (vm.state !== "destroyed") {
      // A VM this process did not start (a restart, another engine): its pid file names the QEMU.
      await killVmQemu(vm.pidFile, vm.workDir);
    }
    await rm(vm.workDir, { recursive: true, force: true });
    this.ports.release(vm.sshPort);
    vm.credentials.forget();
    if (vm.state !== "destroyed") this.#logger.info({ vm: vm.name }, "VM destroyed");
    return Object.freeze({ ...vm, state: "destroyed" as const, pid: undefined });
  }

  state(vm: VmHandle): VmState {
    if (vm.state === "destroyed") return "destroyed";
    const runtime = this.#runtimes.get(vm.name);
    if (runtime === undefined) return vm.state === "running" ? "stopped" : vm.state;
    return runtime.exit === undefined ? "running" : "stopped";
  }

  /** Names of the VMs whose QEMU this hypervisor started and that are still running. */
  running(): string[] {
    return [...this.#runtimes].filter(([, runtime]) => runtime.exit === undefined).map(([name]) => name);
  }

  async #closeConnections(runtime: VmRuntime): Promise<void> {
    await runtime.qmp?.close().catch(() => undefined);
    await runtime.console?.close().catch(() => undefined);
  }
}

function describeExit(exit: ExitInfo): string {
  if (exit.error !== undefined) return exit.error.message;
  return exit.signal !== null ? `killed by ${exit.signal}` : `exit status ${exit.code}`;
}

async function checkReadable(
  label: string,
  what: "disk image" | "kernel" | "initrd",
  path: string,
): Promise<void> {
  try {
    await access(path, constants.R_OK);
    if (!(await stat(path)).isFile()) throw new Error("not a regular file");
  } catch (error) {
    throw new VmImageMissingError({ label, what, path }, error);
  }
}

async function readText(path: string): Promise<string> {
  try {
    return (await readFile(path, "utf8")).slice(-8192);
  } catch {
    return "";
  }
}
