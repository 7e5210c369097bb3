import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ServiceLogger } from "@solstice/common";
import type { KeepVmContext, VmEngine, VmHandle } from "@solstice/vm-engine";
import { SshSession } from "@solstice/vm-engine";
import type { JobStore } from "../persistence/job-store.ts";
import { DebugHolds } from "./debug-holds.ts";
import { DEBUG_SSH_KEY_ENV, parseDebugSshKeys } from "./debug-ssh-keys.ts";
import {
  type DebugHold,
  debugSshLine,
  decideDebugHold,
  formatKeepDuration,
  projectKey,
} from "./debug-ssh-policy.ts";

/** The one-time key's file in a kept VM's 0700 work directory (removed with the VM). */
export const DEBUG_KEY_FILE = "debug-ssh-key";

/** Settings of {@link DebugSsh}. */
export interface DebugSshOptions {
  readonly engine: Pick<VmEngine, "discard">;
  readonly store: JobStore;
  readonly hostId: string;
  /** How long a VM is kept (DEBUG_SSH_TTL_SECS, at most 1800). */
  readonly ttlSecs: number;
  /**
   * How users reach this host, as an `ssh -J` jump (DEBUG_SSH_HOST, e.g. `debug@builder-1.example.org`).
   * The guest's port is forwarded on this host's loopback only. Undefined: the line says to
   * connect from the host itself.
   */
  readonly jumpHost?: string | undefined;
  readonly logger: ServiceLogger;
  readonly now?: (() => Date) | undefined;
  /** Adds public keys to the guest user's `authorized_keys`; default: over SSH with the job's key. */
  readonly installKeys?: ((vm: VmHandle, keys: readonly string[]) => Promise<void>) | undefined;
}

/**
 * Debug SSH (ADR-003), wired to the engine's `keepVm` hook: a failed job whose request opted in
 * (`debug_ssh: true`) keeps its VM for `ttlSecs` (not renewable; then force-destroyed), at most one
 * per project on this host; a second one is destroyed normally and its log says why.
 *
 * How people get in (the per-job private key stays on this host):
 * - the user's own public key, given in the job's env as `SOLSTICE_DEBUG_SSH_KEY`, is added to
 *   the guest's `authorized_keys`; the log names the port and user (and the jump host);
 * - operators of this host (and `cidev` users, who run it locally) can use the job's one-time key,
 *   written to `debug-ssh-key` (0600) in the VM's 0700 work directory and deleted with the VM.
 *   The key itself is never printed, stored or published.
 */
export class DebugSsh {
  readonly #options: DebugSshOptions;
  readonly #holds: DebugHolds;
  readonly #vms = new Map<string, VmHandle>();
  readonly #destroying = new Set<Promise<void>>();

  constructor(options: DebugSshOptions) {
    this.#options = options;
    this.#holds = new DebugHolds((hold) => this.#expire(hold), {
      ...(options.now === undefined ? {} : { now: () => options.now!().getTime() }),
    });
  }

  /** The VMs kept now. */
  holds(): DebugHold[] {
    return this.#holds.list();
  }

  /** The `keepVm` hook for `VmEngine.runJob`. */
  readonly keepVm = async (context: KeepVmContext): Promise<boolean> => {
    const { request, vm, conclusion, log } = context;
    const now = this.#options.now?.() ?? new Date();
    const decision = decideDebugHold({
      request,
      conclusion,
      holds: this.#holds.list(),
      now,
      ttlSecs: this.#options.ttlSecs,
    });
    if (!decision.keep) {
      if (decision.logLine !== undefined) log(decision.logLine);
      return false;
    }
    const hold: DebugHold = {
      requestId: request.request_id,
      project: projectKey(request.repo_url),
      vmName: vm.name,
      expiresAt: decision.expiresAt,
    };
    // Taken before anything is awaited: a second failing job of the project sees it.
    this.#holds.add(hold);
    this.#vms.set(request.request_id, vm);
    const given = parseDebugSshKeys(request.env?.[DEBUG_SSH_KEY_ENV]);
    try {
      const keyFile = join(vm.workDir, DEBUG_KEY_FILE);
      await writeFile(keyFile, vm.credentials.privateKey(), { mode: 0o600, flag: "wx" });
      if (given.keys.length > 0) await (this.#options.installKeys ?? installKeysOverSsh)(vm, given.keys);
      await this.#options.store.updateVm(vm.name, { state: "debug_hold", debugUntil: hold.expiresAt });
      const target = {
        host: "127.0.0.1",
        port: vm.sshPort,
        user: vm.credentials.user,
        expiresAt: hold.expiresAt,
      };
      const onHost = this.#options.jumpHost === undefined ? `on host ${this.#options.hostId}, ` : "";
      log(
        `Debug SSH: this failed job's VM is kept for ${formatKeepDuration(this.#options.ttlSecs)}, ` +
          `until ${hold.expiresAt.toISOString()} ` +
          "(not renewable); then it is destroyed.",
      );
      for (const problem of given.problems) log(`Debug SSH: ${DEBUG_SSH_KEY_ENV} ${problem}; ignored.`);
      if (given.keys.length > 0) {
        log(
          debugSshLine({
            ...target,
            jump: this.#options.jumpHost,
            keyNote: `(${onHost}with your key from ${DEBUG_SSH_KEY_ENV})`,
          }),
        );
      } else {
        log(
          `Debug SSH: no key of yours was given: put your SSH public key in the job's env as ` +
            `${DEBUG_SSH_KEY_ENV} to get in with it.`,
        );
      }
      log(
        `Debug SSH: operators of ${this.#options.hostId} can use the job's one-time key: ` +
          `ssh -i ${keyFile} -p ${vm.sshPort} ${vm.credentials.user}@127.0.0.1`,
      );
      this.#options.logger.info(
        {
          requestId: request.request_id,
          vm: vm.name,
          until: hold.expiresAt.toISOString(),
          userKeys: given.keys.length,
        },
        "VM kept for debug SSH",
      );
      return true;
    } catch (error) {
      this.#holds.release(request.request_id);
      this.#vms.delete(request.request_id);
      const why = error instanceof Error ? error.message : String(error);
      log(`Debug SSH: not kept: ${why}. The VM is destroyed.`);
      this.#options.logger.warn(
        { requestId: request.request_id, vm: vm.name, err: error },
        "debug SSH setup failed",
      );
      return false;
    }
  };

  /** Destroys every kept VM now (shutdown). */
  async releaseAll(): Promise<void> {
    await Promise.all(
      this.#holds.releaseAll().map((hold) => this.#destroy(hold, "the orchestrator is shutting down")),
    );
    await Promise.all([...this.#destroying]);
  }

  #expire(hold: DebugHold): Promise<void> {
    return this.#destroy(hold, "its debug SSH time is over");
  }

  #destroy(hold: DebugHold, why: string): Promise<void> {
    const vm = this.#vms.get(hold.requestId);
    this.#vms.delete(hold.requestId);
    if (vm === undefined) return Promise.resolve();
    const done = (async () => {
      try {
        // Force: no graceful power-off for a VM someone may still be logged in to.
        await this.#options.engine.discard(vm, { gracefulTimeoutMs: 0 });
        await this.#options.store.markVmDestroyed(vm.name);
        this.#options.logger.info({ requestId: hold.requestId, vm: vm.name, why }, "debug SSH VM destroyed");
      } catch (error) {
        this.#options.logger.error(
          { requestId: hold.requestId, vm: vm.name, err: error },
          "destroying a debug SSH VM failed",
        );
      }
    })();
    this.#destroying.add(done);
    void done.finally(() => this.#destroying.delete(done));
    return done;
  }
}

async function installKeysOverSsh(vm: VmHandle, keys: readonly string[]): Promise<void> {
  const ssh = await SshSession.connect({
    host: "127.0.0.1",
    port: vm.sshPort,
    username: vm.credentials.user,
    privateKey: vm.credentials.privateKey(),
    readyTimeoutMs: 20_000,
  });
  try {
    const result = await ssh.run(
      'umask 077 && mkdir -p "$HOME/.ssh" && cat >> "$HOME/.ssh/authorized_keys"',
      {
        stdin: `${keys.join("\n")}\n`,
      },
    );
    if (result.exitCode !== 0) {
      throw new Error(
        `adding your key to the guest failed (exit ${result.exitCode}): ${result.stderr.trim()}`,
      );
    }
  } finally {
    await ssh.close();
  }
}
