import type { GuestShell } from "../exec/guest-shell.ts";
import type { JobFileFields } from "../seed/cloud-config.ts";
import type { AccelMode } from "./accel-probe.ts";
import type { Accel } from "./qemu-command.ts";
import type { VmCredentials } from "./vm-credentials.ts";

// The VM lifecycle as the original's Hypervisor trait and vm-manager's: prepare → start → stop →
// destroy, each taking a handle and returning an updated one. Handles are immutable data (frozen);
// the live resources of a running VM (process, QMP connection, console) stay in the hypervisor.

/** Where a VM is in its life. */
export type VmState = "prepared" | "running" | "stopped" | "destroyed";

/** The base image and how to boot it. */
export interface VmImage {
  /** The label it serves (for messages). */
  readonly label: string;
  readonly diskPath: string;
  readonly format: "qcow2" | "raw";
  /** Direct kernel boot (test guests, some BSDs): kernel, initrd and command line. */
  readonly kernel?: string | undefined;
  readonly initrd?: string | undefined;
  readonly append?: string | undefined;
}

/** What to build: the original's VmSpec plus what the seed and SSH need. */
export interface VmSpec {
  /** Unique on this host; names the work directory and seeds the SSH port (`job-<request id>`). */
  readonly name: string;
  readonly image: VmImage;
  readonly cpu: number;
  readonly ramMb: number;
  readonly diskGb: number;
  readonly accel: AccelMode;
  /** The user the per-job key is authorised for. */
  readonly sshUser: string;
  /** Written to `/etc/solstice/job.yaml` by the seed's cloud-config. */
  readonly job: JobFileFields;
}

/** A VM at one point of its life. Never mutated: lifecycle calls return a new handle. */
export interface VmHandle {
  readonly name: string;
  readonly state: VmState;
  readonly spec: VmSpec;
  /** The acceleration it runs with (the probe's verdict for `auto`). */
  readonly accel: Accel;
  /** The VM's own 0700 directory: overlay, seed, sockets, pid file, QEMU's stderr. */
  readonly workDir: string;
  readonly overlayPath: string;
  readonly seedPath: string;
  readonly qmpSocket: string;
  readonly consoleSocket: string;
  readonly pidFile: string;
  /** QEMU's stderr, for error messages. */
  readonly stderrLog: string;
  /** 127.0.0.1:sshPort reaches the guest's port 22. */
  readonly sshPort: number;
  /** QEMU's pid while running. */
  readonly pid: number | undefined;
  /** The per-job key; the private half never leaves memory. */
  readonly credentials: VmCredentials;
  /**
   * Warm start: QEMU's `-incoming` source (a saved template state); the VM then resumes that state
   * instead of booting. Undefined for a cold boot.
   */
  readonly incoming?: string | undefined;
}

/**
 * A running VM's console as the engine uses it: its lines go into the job log while the guest
 * boots, and stop once the guest's shell is up (ADR-002: the console would repeat the SSH output).
 */
export interface GuestConsole {
  /** Hand every line from now on to `forward`. */
  forwardTo(forward: (line: string) => void): void;
  /** Stop handing lines on. */
  stopForwarding(): void;
}

/** Options of {@link Hypervisor.connectGuest}. */
export interface ConnectGuestOptions {
  /** How long the guest may take to answer (it may still be booting). */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * The lifecycle every VM backend implements (the original's `Hypervisor` trait), and what the
 * engine needs of a running VM: its console and a shell in it.
 *
 * @example
 *   let vm = await hv.prepare(spec);
 *   vm = await hv.start(vm);
 *   hv.console(vm)?.forwardTo((line) => events.system(line));
 *   const shell = await hv.connectGuest(vm, { timeoutMs: 300_000, signal });
 *   // ... executeJob(shell, request, { events })
 *   await shell.close();
 *   vm = await hv.destroy(await hv.stop(vm));
 */
export interface Hypervisor {
  /** Make the VM's directory, overlay, seed and key; nothing runs yet. */
  prepare(spec: VmSpec): Promise<VmHandle>;
  /** Boot it. */
  start(vm: VmHandle): Promise<VmHandle>;
  /** Its console while it runs (undefined when it has none, or does not run). */
  console(vm: VmHandle): GuestConsole | undefined;
  /**
   * A shell in the running guest, waiting until it answers (within `timeoutMs`). Rejects when it
   * does not, explaining why (e.g. the console's last lines), or when `signal` aborts.
   */
  connectGuest(vm: VmHandle, options: ConnectGuestOptions): Promise<GuestShell>;
  /** Shut it down: gracefully within `gracefulTimeoutMs`, then by force. */
  stop(vm: VmHandle, options?: { gracefulTimeoutMs?: number }): Promise<VmHandle>;
  /** Remove everything it had (files, port, key). Idempotent; kills it if still running. */
  destroy(vm: VmHandle): Promise<VmHandle>;
  /** Its state as the backend sees it now (a running VM whose QEMU died is `stopped`). */
  state(vm: VmHandle): VmState;
}
