// What bench/github-logs leaves behind when it ends: the orchestrator child process (stopped as
// forgejo-logs stops it) and any QEMU process of its VMs.

import type { ChildProcess } from "node:child_process";
import { qemuProcessesUsing } from "@solstice/test-support";

/** SIGTERM (graceful: lets a running job drain), a second one after 10 s, SIGKILL after 30 s. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const again = setTimeout(() => child.kill("SIGTERM"), 10_000);
  const kill = setTimeout(() => child.kill("SIGKILL"), 30_000);
  await exited;
  clearTimeout(again);
  clearTimeout(kill);
}

/** Kills the QEMU processes whose command line names `dir` (the orchestrator's VMs); returns how many. */
export async function killQemuUnder(dir: string): Promise<number> {
  let killed = 0;
  for (const pid of await qemuProcessesUsing(dir)) {
    try {
      process.kill(pid, "SIGKILL");
      killed += 1;
    } catch {
      // Already gone.
    }
  }
  return killed;
}
