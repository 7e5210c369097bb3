import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServiceLogger } from "@solstice/common";
import { KVM_PROBE_KERNEL_BASE64, KVM_PROBE_SUCCESS_STATUS, kvmProbeArgs } from "./kvm-probe-payload.ts";
import type { Accel } from "./qemu-command.ts";

// Is KVM usable here? `/dev/kvm` existing proves little: on some hosts it opens, QEMU starts with
// -accel kvm, and then the guest runs thousands of times too slowly to boot (nested setups).
// The probe therefore runs a tiny guest (see kvm-probe-payload.ts) under KVM with a deadline.
// The verdict is cached per process and QEMU binary.

/** What the operator asks for: `auto` probes, `kvm` and `tcg` are taken as given. */
export type AccelMode = "auto" | Accel;

const DEFAULT_PROBE_TIMEOUT_MS = 3000;

/** The outcome of a probe. `reason` says why KVM is not used (for the warning). */
export interface AccelDecision {
  readonly accel: Accel;
  readonly reason?: string;
}

/** Where the probe logs its warning (pino's `warn(obj, msg)` fits). */
export type AccelProbeLogger = Pick<ServiceLogger, "warn">;

/** Options of {@link probeKvm}. */
export interface KvmProbeOptions {
  readonly qemuBinary?: string;
  /** How long the probe guest may take under KVM. Default 3000 ms (real KVM needs a few ms). */
  readonly timeoutMs?: number;
  /** The KVM device (tests point it elsewhere). Default `/dev/kvm`. */
  readonly kvmDevice?: string;
}

/**
 * Probe KVM: `/dev/kvm` must open read-write and the probe guest must run to its end under KVM
 * within the deadline. Resolves `{ accel: "kvm" }` or `{ accel: "tcg", reason }`; never rejects.
 */
export async function probeKvm(options: KvmProbeOptions = {}): Promise<AccelDecision> {
  const device = options.kvmDevice ?? "/dev/kvm";
  try {
    await access(device, constants.R_OK | constants.W_OK);
  } catch (error) {
    return {
      accel: "tcg",
      reason: `${device} is not usable (${(error as NodeJS.ErrnoException).code ?? error})`,
    };
  }
  const dir = await mkdtemp(join(tmpdir(), "solstice-kvm-probe-"));
  try {
    const kernel = join(dir, "probe.bin");
    await writeFile(kernel, Buffer.from(KVM_PROBE_KERNEL_BASE64, "base64"));
    const result = await runWithDeadline(
      options.qemuBinary ?? "qemu-system-x86_64",
      kvmProbeArgs(kernel),
      options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
    );
    if (result.status === KVM_PROBE_SUCCESS_STATUS) return { accel: "kvm" };
    if (result.timedOut) {
      return {
        accel: "tcg",
        reason: `${device} opens but a KVM guest did not run at usable speed (probe guest unfinished after ${options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS} ms)`,
      };
    }
    const stderr = result.stderr.trim().split("\n").slice(-3).join(" / ");
    return {
      accel: "tcg",
      reason: `QEMU could not run a KVM guest (${result.error ?? `exit ${result.status ?? result.signal}`})${stderr ? `: ${stderr}` : ""}`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const cache = new Map<string, Promise<AccelDecision>>();

/**
 * The acceleration to start VMs with. `kvm` and `tcg` are returned as asked; `auto` probes KVM
 * once per process and QEMU binary (see {@link probeKvm}) and, when KVM is not usable, logs a
 * warning once and returns `tcg`.
 *
 * @example
 *   const accel = await resolveAccel("auto", { logger }); // "tcg" on hosts where KVM does not work
 */
export async function resolveAccel(
  mode: AccelMode,
  options: KvmProbeOptions & { logger?: AccelProbeLogger } = {},
): Promise<Accel> {
  if (mode !== "auto") return mode;
  const key = `${options.qemuBinary ?? "qemu-system-x86_64"}\0${options.kvmDevice ?? "/dev/kvm"}`;
  let decision = cache.get(key);
  if (decision === undefined) {
    decision = probeKvm(options).then((result) => {
      if (result.accel === "tcg") {
        options.logger?.warn(
          { reason: result.reason },
          "KVM is not usable here: VMs run under TCG (software emulation), many times slower",
        );
      }
      return result;
    });
    cache.set(key, decision);
  }
  return (await decision).accel;
}

/** Forget cached probe results (tests; a host whose /dev/kvm changed). */
export function clearAccelProbeCache(): void {
  cache.clear();
}

interface RunResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stderr: string;
  readonly error?: string;
}

function runWithDeadline(binary: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    let stderr = "";
    let timedOut = false;
    const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      if (stderr.length < 8192) stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ status: null, signal: null, timedOut: false, stderr, error: error.message });
    });
    child.once("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, timedOut, stderr });
    });
  });
}
