import { open, readFile, unlink } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

// A lock file shared by processes on one host (two orchestrators, or `ciadm images pull` beside
// one, fetching the same image): created with O_EXCL, holding the holder's pid. A lock whose
// process is gone is stale and taken over; a live one is waited for, up to a deadline.

const LOCK_POLL_MS = 200;

/**
 * Take `<local_path>.lock` (O_EXCL, holding our pid). A lock whose process is gone is stale and
 * taken over; a live one is waited for. Returns the release function.
 */
export async function acquireFileLock(
  lockPath: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  fail: (message: string, cause?: unknown, hint?: string) => Error,
): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(lockPath, "wx", 0o644);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => unlink(lockPath).catch(() => {});
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw fail(`cannot create lock ${lockPath}: ${messageOf(error)}`, error);
      }
    }
    const holder = await readLockHolder(lockPath);
    if (holder !== undefined && !isProcessAlive(holder)) {
      await unlink(lockPath).catch(() => {});
      continue;
    }
    if (signal?.aborted) throw fail("fetch aborted while waiting for another fetch", signal.reason);
    if (Date.now() >= deadline) {
      throw fail(
        `another process (pid ${holder ?? "?"}) has been fetching for over ${Math.round(timeoutMs / 1000)} s`,
        undefined,
        `if no fetch is running, remove ${lockPath}`,
      );
    }
    await sleep(LOCK_POLL_MS);
  }
}

async function readLockHolder(lockPath: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(lockPath, "utf8")).trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
