import { readdir, readFile } from "node:fs/promises";
import { basename } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

// Linux /proc reads about QEMU processes, for the engine (killing a VM's QEMU left running) and
// for crash recovery: is a recorded pid still our QEMU, which QEMU processes name our VM
// directory, and stopping one. A pid alone is never trusted (it may have been reused since):
// the command line must be a QEMU's and name the VM's directory.

/**
 * What a process id recorded for a VM is now: `gone` (no such process, or a zombie), `ours` (a
 * QEMU whose command line names the VM's work directory), `foreign` (the pid was reused by
 * something else: never killed).
 */
export type ProcessStatus = "gone" | "ours" | "foreign";

/** A QEMU process found on the host whose command line names our VM directory, recorded or not. */
export interface FoundProcess {
  readonly pid: number;
}

/** The command line of a process, split into its arguments; undefined when it is gone or a zombie. */
export async function readCommandLine(pid: number): Promise<string[] | undefined> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  let raw: string;
  try {
    raw = await readFile(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return undefined;
  }
  // A zombie (or a kernel thread) has an empty command line.
  if (raw === "") return undefined;
  return raw.split("\0").filter((arg, i, all) => !(arg === "" && i === all.length - 1));
}

/** True when the arguments are a QEMU system emulator's. */
export function isQemuCommand(args: readonly string[]): boolean {
  const program = args[0];
  return program !== undefined && basename(program).startsWith("qemu-system-");
}

/**
 * What process `pid` is now, for a VM whose work directory is `workDir`: `ours` when it is a QEMU
 * whose command line names that directory, `foreign` when it is something else, `gone` when no
 * such process runs.
 */
export async function probeVmProcess(pid: number, workDir: string): Promise<ProcessStatus> {
  const args = await readCommandLine(pid);
  if (args === undefined) return "gone";
  return isQemuCommand(args) && args.some((a) => a.includes(workDir)) ? "ours" : "foreign";
}

/** Every QEMU process whose command line names a path under `vmRoot` (our VM directory). */
export async function findQemuProcesses(vmRoot: string): Promise<FoundProcess[]> {
  const found: FoundProcess[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const args = await readCommandLine(pid);
    if (args !== undefined && isQemuCommand(args) && args.some((a) => a.includes(vmRoot)))
      found.push({ pid });
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/**
 * Sends SIGKILL to `pid` and waits until it is gone (or `timeoutMs` passed; then throws).
 * A process that is already gone is fine.
 */
export async function killAndWait(pid: number, timeoutMs = 10_000): Promise<void> {
  try {
    process.kill(pid, "SIGKILL");
  } catch (err) {
    if (isErrno(err, "ESRCH")) return;
    throw err;
  }
  const deadline = Date.now() + timeoutMs;
  while ((await readCommandLine(pid)) !== undefined) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still runs ${timeoutMs} ms after SIGKILL`);
    await sleep(20);
  }
}

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && "code" in err && err.code === code;
}

/** Kills the QEMU named by `pidFile`, if that process is still this VM's QEMU (`workDir`). */
export async function killVmQemu(pidFile: string, workDir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number.parseInt(await readFile(pidFile, "utf8"), 10);
  } catch {
    return;
  }
  if (!Number.isSafeInteger(pid) || pid <= 1) return;
  if ((await probeVmProcess(pid, workDir)) !== "ours") return;
  await killAndWait(pid, 5_000).catch(() => undefined);
}
