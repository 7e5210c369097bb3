import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { findQemuProcesses, readCommandLine } from "@solstice/vm-engine";

// What the orchestrator's VMs look like from the host: their QEMU processes, the host port each
// forwards to its guest's sshd, work directories, listening ports. For the dropped-SSH fault and
// for the leftovers count.

const run = promisify(execFile);

/** A running QEMU of ours: its pid, the VM's name (its work directory's) and its SSH port. */
export interface VmProcess {
  readonly pid: number;
  readonly vmName: string | undefined;
  readonly sshPort: number | undefined;
}

/** QEMU processes whose command line names `vmRoot`, with their VM name and forwarded SSH port. */
export async function vmProcesses(vmRoot: string): Promise<VmProcess[]> {
  const found: VmProcess[] = [];
  for (const { pid } of await findQemuProcesses(vmRoot)) {
    const args = (await readCommandLine(pid)) ?? [];
    const line = args.join(" ");
    const port = /hostfwd=tcp:127\.0\.0\.1:(\d+)-:22/.exec(line)?.[1];
    const escaped = vmRoot.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const vmName = new RegExp(`${escaped}/([^/\\s,]+)/`).exec(line)?.[1];
    found.push({ pid, vmName, sshPort: port === undefined ? undefined : Number(port) });
  }
  return found;
}

/** Entries under `vmRoot` (each VM's work directory); none when it does not exist. */
export async function workDirs(vmRoot: string): Promise<string[]> {
  try {
    return (await readdir(vmRoot)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** A port of `ports` something listens on now, and the pids listening (from `ss -ltnp`). */
export interface ListeningPort {
  readonly port: number;
  readonly pids: readonly number[];
}

/** Of `ports`, those something listens on now, with the listening processes. */
export async function listening(ports: Iterable<number>): Promise<ListeningPort[]> {
  const wanted = new Set(ports);
  if (wanted.size === 0) return [];
  const { stdout } = await run("ss", ["-Hltnp"]);
  const open = new Map<number, number[]>();
  for (const line of stdout.split("\n")) {
    const local = line.trim().split(/\s+/)[3];
    const port = Number(local?.slice(local.lastIndexOf(":") + 1));
    if (!wanted.has(port)) continue;
    const pids = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
    open.set(port, [...(open.get(port) ?? []), ...pids]);
  }
  return [...open]
    .map(([port, pids]) => ({ port, pids: [...new Set(pids)] }))
    .sort((a, b) => a.port - b.port);
}

/**
 * Whether a listening port is ours: a process whose command line names `dir` listens on it. The
 * ports a run used are free again afterwards and other work on the machine (its own VMs) may
 * listen on them then: that is not a leftover.
 */
export async function isOurs(port: ListeningPort, dir: string): Promise<boolean> {
  for (const pid of port.pids)
    if ((await readCommandLine(pid))?.some((arg) => arg.includes(dir))) return true;
  // No owner shown (not permitted to see it): count it, rather than miss one.
  return port.pids.length === 0;
}

/**
 * Drops, from the host side, every TCP connection to 127.0.0.1:`port` (the orchestrator's SSH
 * sessions to one guest, through QEMU's forward) with `ss -K`, as a failing network would.
 * Returns how many connections it closed.
 */
export async function dropConnectionsTo(port: number): Promise<number> {
  const { stdout } = await run("ss", ["-HK", "-tn", "dst", "127.0.0.1", "dport", "=", `:${port}`]);
  return stdout.split("\n").filter((line) => line.trim() !== "").length;
}

/** The peak and current resident size of a process (VmHWM, VmRSS), in MB; undefined once it is gone. */
export async function memoryOf(pid: number): Promise<{ hwmMb: number; rssMb: number } | undefined> {
  let status: string;
  try {
    status = await readFile(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? Number.NaN);
  return { hwmMb: kb("VmHWM") / 1024, rssMb: kb("VmRSS") / 1024 };
}
