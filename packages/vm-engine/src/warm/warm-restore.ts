import { randomBytes } from "node:crypto";
import type { ServiceLogger } from "@solstice/common";
import { silentLogger } from "@solstice/common";
import { WarmRestoreError } from "../errors.ts";
import { renderJobFile } from "../seed/cloud-config.ts";
import { SshSession } from "../ssh/ssh-session.ts";
import type { QemuHypervisor } from "../vm/qemu-vm.ts";
import type { VmHandle, VmSpec } from "../vm/vm-types.ts";
import { keySwapCommand, renderKeySwapScript } from "./guest-key-swap.ts";
import type { BuiltTemplate } from "./template-build.ts";

// A job's VM from a warm template: a fresh overlay on the template's frozen disk, QEMU resuming
// the saved state with the job's own SSH port, then — over SSH with the template key — the job's
// key swapped in for the template key, the clock, host name and job file set. Afterwards the VM
// is what a cold boot would have given: the engine connects with the job's key as usual.

/** Options of {@link restoreFromTemplate}. */
export interface RestoreOptions {
  /** Budget for the restored guest to answer on SSH. Default 30 s. */
  readonly sshTimeoutMs?: number;
  readonly signal?: AbortSignal | undefined;
  readonly logger?: ServiceLogger;
  /** Called with each new handle (prepared, running), as the engine's `onVm`. */
  readonly onVm?: (vm: VmHandle) => Promise<void>;
}

/**
 * Start `spec`'s VM from `template`. On failure the VM is destroyed (port and work directory
 * freed, so a cold boot of the same name can follow) and {@link WarmRestoreError} is thrown.
 */
export async function restoreFromTemplate(
  hv: QemuHypervisor,
  spec: VmSpec,
  template: BuiltTemplate,
  options: RestoreOptions = {},
): Promise<VmHandle> {
  const logger = options.logger ?? silentLogger;
  let vm: VmHandle | undefined;
  let stage: "restore" | "ssh" | "key-swap" = "restore";
  let ssh: SshSession | undefined;
  try {
    vm = await hv.prepare(spec, { restore: template });
    await options.onVm?.(vm);
    vm = await hv.start(vm);
    await options.onVm?.(vm);
    stage = "ssh";
    const running = vm;
    ssh = await SshSession.connectWithRetry({
      host: "127.0.0.1",
      port: vm.sshPort,
      username: template.sshUser,
      privateKey: template.credentials.privateKey(),
      timeoutMs: options.sshTimeoutMs ?? 30_000,
      readyTimeoutMs: 10_000,
      initialDelayMs: 50,
      signal: options.signal,
      giveUp: () => (hv.state(running) === "running" ? undefined : "QEMU exited"),
    });
    stage = "key-swap";
    const script = renderKeySwapScript({
      templatePublicKey: template.credentials.publicKey,
      jobPublicKey: vm.credentials.publicKey,
      hostname: spec.name.slice(0, 63),
      nowMs: Date.now(),
      jobFile: renderJobFile(spec.job),
      entropyHex: randomBytes(64).toString("hex"),
    });
    const swapped = await ssh.run(keySwapCommand(template.sshUser), { stdin: script });
    if (swapped.exitCode !== 0) {
      throw new Error(
        `exit ${swapped.exitCode ?? swapped.signal ?? "without status"}: ${swapped.stderr.trim().slice(-300)}`,
      );
    }
    await ssh.close();
    ssh = undefined;
    logger.info(
      { vm: spec.name, template: template.id, key: vm.credentials.fingerprint },
      "VM restored warm",
    );
    return vm;
  } catch (error) {
    await ssh?.close().catch(() => undefined);
    if (vm !== undefined) await hv.destroy(vm).catch(() => undefined);
    if (options.signal?.aborted) throw error;
    const message = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
    throw new WarmRestoreError({ label: spec.image.label, stage }, message, { cause: error });
  }
}
