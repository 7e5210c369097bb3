import { chmod, mkdir, open, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ServiceLogger } from "@solstice/common";
import { silentLogger } from "@solstice/common";
import { z } from "zod";
import { WarmTemplateError } from "../errors.ts";
import { shQuote } from "../exec/shell-quote.ts";
import type { QmpClient } from "../qmp/qmp-client.ts";
import { generateEphemeralKeyPair } from "../ssh/ssh-keys.ts";
import type { SshSession } from "../ssh/ssh-session.ts";
import type { QemuHypervisor, RestoreSource } from "../vm/qemu-vm.ts";
import { VmCredentials } from "../vm/vm-credentials.ts";
import type { VmHandle, VmSpec } from "../vm/vm-types.ts";

// Making a warm template: a pristine cold boot of the image whose seed authorises a template key
// (made here, held in memory only), SSH, the image's settle command, then QMP `stop` and `migrate`
// of the paused VM into a state file, `quit`. The VM's overlay is then frozen (read-only): it is
// the backing file of every job overlay restored from the state. See docs/vm-engine.md.

/** A built template: its files and the key its guest trusts. */
export interface BuiltTemplate extends RestoreSource {
  readonly id: string;
  readonly label: string;
  /** The template's own 0700 directory (disk, seed, state). */
  readonly dir: string;
  /** The user the template key is authorised for. */
  readonly sshUser: string;
  /** The template key: the private half in memory only, forgotten when the template is removed. */
  readonly credentials: VmCredentials;
  readonly stateBytes: number;
  /** Cold boot to SSH, settle included. */
  readonly bootSeconds: number;
  /** `stop` + `migrate` to the state file. */
  readonly saveSeconds: number;
}

/** Options of {@link buildTemplate}. */
export interface BuildTemplateOptions {
  readonly id: string;
  /** The template's directory, made here (0700); removed again when the build fails. */
  readonly dir: string;
  /** The command that returns once the guest has finished booting. */
  readonly settle: string;
  /** Budget of the cold boot to SSH. Default 300 s. */
  readonly sshTimeoutMs?: number;
  /** Budget of the settle command. Default 300 s. */
  readonly settleTimeoutMs?: number;
  readonly logger?: ServiceLogger;
  readonly signal?: AbortSignal | undefined;
}

/** QEMU's default migration bandwidth (32 MiB/s) applies to a stopped VM too: lift it for the save. */
const SAVE_BANDWIDTH = 20 * 1024 ** 3;
const SAVE_TIMEOUT_MS = 180_000;

const queryMigrateSchema = z
  .object({ status: z.string().optional(), "error-desc": z.string().optional() })
  .loose();

/**
 * Boot `spec` cold and save it as a template in `options.dir`. `spec.name` names the template's
 * boot VM (a work directory of the hypervisor, gone afterwards). Throws {@link WarmTemplateError}.
 */
export async function buildTemplate(
  hv: QemuHypervisor,
  spec: VmSpec,
  options: BuildTemplateOptions,
): Promise<BuiltTemplate> {
  const logger = options.logger ?? silentLogger;
  const label = spec.image.label;
  const fail = (stage: string, error: unknown): WarmTemplateError =>
    error instanceof WarmTemplateError
      ? error
      : new WarmTemplateError({ label, stage }, error instanceof Error ? error.message : String(error), {
          cause: error,
        });
  const keys = generateEphemeralKeyPair(`solstice-template-${options.id}`);
  const credentials = new VmCredentials({
    user: spec.sshUser,
    publicKey: keys.publicKey,
    fingerprint: keys.fingerprint,
    privateKey: keys.privateKey,
  });
  const started = Date.now();
  let vm: VmHandle | undefined;
  let ssh: SshSession | undefined;
  let stage = "boot";
  try {
    await mkdir(options.dir, { mode: 0o700 });
    vm = await hv.prepare(spec, { keys });
    vm = await hv.start(vm);
    ssh = await hv.connectSsh(vm, { timeoutMs: options.sshTimeoutMs ?? 300_000, signal: options.signal });
    stage = "settle";
    const settled = await runWithTimeout(ssh, options.settle, options.settleTimeoutMs ?? 300_000);
    if (settled.exitCode !== 0) {
      const output = `${settled.stdout}${settled.stderr}`.trim().slice(-500);
      throw new WarmTemplateError(
        { label, stage },
        `\`${options.settle}\` exited with ${settled.exitCode ?? settled.signal ?? "no status"}${output === "" ? "" : `: ${output}`}`,
      );
    }
    // No session of ours may be frozen into the state: every restore would inherit it.
    await ssh.close();
    ssh = undefined;
    const bootSeconds = (Date.now() - started) / 1000;
    options.signal?.throwIfAborted();

    stage = "save";
    const qmp = hv.qmp(vm);
    if (qmp === undefined) throw new Error("the template VM has no QMP connection");
    const statePath = join(options.dir, "state");
    const saveStarted = Date.now();
    // Made 0600 before QEMU's `cat >` writes into it (the guest's memory: keys, tokens).
    await (await open(statePath, "wx", 0o600)).close();
    await saveState(qmp, statePath);
    const saveSeconds = (Date.now() - saveStarted) / 1000;
    vm = await hv.stop(vm, { gracefulTimeoutMs: 0 });

    stage = "freeze";
    const diskPath = join(options.dir, "disk.qcow2");
    const seedPath = join(options.dir, "seed.iso");
    await rename(vm.overlayPath, diskPath);
    await rename(vm.seedPath, seedPath);
    await chmod(diskPath, 0o400);
    await chmod(seedPath, 0o400);
    const stateBytes = (await stat(statePath)).size;
    logger.info(
      { template: options.id, label, bootSeconds, saveSeconds, stateBytes, key: keys.fingerprint },
      "warm template built",
    );
    return {
      id: options.id,
      label,
      dir: options.dir,
      diskPath,
      seedPath,
      statePath,
      sshUser: spec.sshUser,
      credentials,
      stateBytes,
      bootSeconds,
      saveSeconds,
    };
  } catch (error) {
    credentials.forget();
    await rm(options.dir, { recursive: true, force: true });
    throw fail(stage, error);
  } finally {
    await ssh?.close().catch(() => undefined);
    if (vm !== undefined) await hv.destroy(vm).catch(() => undefined);
  }
}

/** `stop`, then `migrate` to `exec:cat > file`, waiting for it to complete. */
async function saveState(qmp: QmpClient, statePath: string): Promise<void> {
  await qmp.execute("migrate-set-parameters", { "max-bandwidth": SAVE_BANDWIDTH });
  await qmp.execute("stop");
  await qmp.execute("migrate", { uri: `exec:cat > ${shQuote(statePath)}` });
  const deadline = Date.now() + SAVE_TIMEOUT_MS;
  for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
    const info = queryMigrateSchema.parse(await qmp.execute("query-migrate"));
    if (info.status === "completed") return;
    if (info.status === "failed" || info.status === "cancelled") {
      throw new Error(
        `migrate ${info.status}${info["error-desc"] === undefined ? "" : `: ${info["error-desc"]}`}`,
      );
    }
    if (Date.now() > deadline) throw new Error(`the state was not saved within ${SAVE_TIMEOUT_MS} ms`);
    await sleep(delay);
  }
}

async function runWithTimeout(
  ssh: SshSession,
  command: string,
  timeoutMs: number,
): ReturnType<SshSession["run"]> {
  const signal = AbortSignal.timeout(timeoutMs);
  const result = await ssh.run(command, { signal });
  if (signal.aborted) throw new Error(`\`${command}\` did not finish within ${timeoutMs} ms`);
  return result;
}
