import { constants } from "node:fs";
import { access, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VmImageMissingError, VmStateError, VmWorkDirError } from "../errors.ts";
import { generateEphemeralKeyPair } from "../ssh/ssh-keys.ts";
import { VmCredentials } from "../vm/vm-credentials.ts";
import type {
  ConnectGuestOptions,
  GuestConsole,
  Hypervisor,
  VmHandle,
  VmSpec,
  VmState,
} from "../vm/vm-types.ts";
import { LocalGuestShell } from "./local-guest-shell.ts";

// The `local` backend of the VM lifecycle, for unit tests of the job flow (VmEngine, executeJob,
// the orchestrator's intake and runner) without QEMU: a "VM" is a temporary directory, its guest
// a LocalGuestShell running commands with /bin/sh on the host in `<work dir>/home`. It keeps the
// lifecycle's rules (states, a readable base image, idempotent destroy, the key forgotten) so the
// engine is exercised as with QEMU. The handle's QEMU fields name files in the work directory
// that are never made; there is no SSH port (0) and no process (pid undefined).

/** Options of {@link LocalHypervisor}. */
export interface LocalHypervisorOptions {
  /** Where the VMs' work directories are made. Default: the OS temp directory. */
  readonly stateDir?: string;
  /** Lines the console gives while the "guest boots" (forwarded into the job log). */
  readonly bootLines?: readonly string[];
}

interface LocalVm {
  readonly home: string;
  state: VmState;
  readonly shells: Set<LocalGuestShell>;
}

/**
 * VMs as directories on this host (unit tests only).
 *
 * @example
 *   const engine = new VmEngine({ hypervisor: new LocalHypervisor() });
 *   await engine.runJob(request, image, { sink }); // image.localPath: any readable file
 */
export class LocalHypervisor implements Hypervisor {
  readonly #options: LocalHypervisorOptions;
  readonly #vms = new Map<string, LocalVm>();

  constructor(options: LocalHypervisorOptions = {}) {
    this.#options = options;
  }

  async prepare(spec: VmSpec): Promise<VmHandle> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(spec.name)) {
      throw new VmWorkDirError(spec.name, "a VM name may hold letters, digits, '.', '_' and '-' only");
    }
    if (this.#vms.has(spec.name)) {
      throw new VmWorkDirError(spec.name, "a VM of this name already exists", {
        hint: "VM names must be unique; destroy the old VM first",
      });
    }
    try {
      await access(spec.image.diskPath, constants.R_OK);
    } catch (error) {
      throw new VmImageMissingError(
        { label: spec.image.label, what: "disk image", path: spec.image.diskPath },
        error,
      );
    }
    const parent = this.#options.stateDir ?? tmpdir();
    await mkdir(parent, { recursive: true, mode: 0o700 });
    const workDir = await mkdtemp(join(parent, `${spec.name}-`));
    const home = join(workDir, "home");
    await mkdir(home, { mode: 0o700 });
    const keys = generateEphemeralKeyPair(`solstice-${spec.name}`);
    this.#vms.set(spec.name, { home, state: "prepared", shells: new Set() });
    return Object.freeze({
      name: spec.name,
      state: "prepared",
      spec,
      accel: "tcg",
      workDir,
      overlayPath: join(workDir, "overlay.qcow2"),
      seedPath: join(workDir, "seed.iso"),
      qmpSocket: join(workDir, "qmp.sock"),
      consoleSocket: join(workDir, "console.sock"),
      pidFile: join(workDir, "qemu.pid"),
      stderrLog: join(workDir, "qemu.stderr"),
      sshPort: 0,
      pid: undefined,
      credentials: new VmCredentials({
        user: spec.sshUser,
        publicKey: keys.publicKey,
        fingerprint: keys.fingerprint,
        privateKey: keys.privateKey,
      }),
    });
  }

  async start(vm: VmHandle): Promise<VmHandle> {
    const local = this.#vms.get(vm.name);
    const state = this.state(vm);
    if (local === undefined || (state !== "prepared" && state !== "stopped")) {
      throw new VmStateError(vm.name, state, "start");
    }
    local.state = "running";
    return Object.freeze({ ...vm, state: "running" as const });
  }

  /** A console that replays `bootLines` to whoever forwards them. */
  console(vm: VmHandle): GuestConsole | undefined {
    if (this.state(vm) !== "running") return undefined;
    const lines = this.#options.bootLines ?? [];
    return {
      forwardTo: (forward) => {
        for (const line of lines) forward(line);
      },
      stopForwarding: () => undefined,
    };
  }

  async connectGuest(vm: VmHandle, options: ConnectGuestOptions): Promise<LocalGuestShell> {
    options.signal?.throwIfAborted();
    const local = this.#vms.get(vm.name);
    if (local === undefined || local.state !== "running")
      throw new VmStateError(vm.name, this.state(vm), "reach");
    const shell = new LocalGuestShell(local.home);
    local.shells.add(shell);
    return shell;
  }

  /** Stops it: its shells are closed (what runs in them is killed). */
  async stop(vm: VmHandle): Promise<VmHandle> {
    if (vm.state === "destroyed") throw new VmStateError(vm.name, "destroyed", "stop");
    const local = this.#vms.get(vm.name);
    if (local !== undefined) {
      await closeShells(local);
      if (local.state === "running") local.state = "stopped";
    }
    return Object.freeze({ ...vm, state: local?.state ?? "stopped", pid: undefined });
  }

  async destroy(vm: VmHandle): Promise<VmHandle> {
    const local = this.#vms.get(vm.name);
    if (local !== undefined) await closeShells(local);
    this.#vms.delete(vm.name);
    await rm(vm.workDir, { recursive: true, force: true });
    vm.credentials.forget();
    return Object.freeze({ ...vm, state: "destroyed" as const, pid: undefined });
  }

  state(vm: VmHandle): VmState {
    if (vm.state === "destroyed") return "destroyed";
    return this.#vms.get(vm.name)?.state ?? (vm.state === "running" ? "stopped" : vm.state);
  }

  /** Names of the VMs that are running now. */
  running(): string[] {
    return [...this.#vms].filter(([, vm]) => vm.state === "running").map(([name]) => name);
  }
}

async function closeShells(vm: LocalVm): Promise<void> {
  for (const shell of vm.shells) await shell.close();
  vm.shells.clear();
}
