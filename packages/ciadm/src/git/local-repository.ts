import { mkdtemp, realpath, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GitDaemon, GUEST_HOST_ADDRESS } from "@solstice/cli-kit";

// `ciadm trigger --repo <directory>`: a repository on this host, served to the guest by
// `git daemon` on 127.0.0.1 while the job runs (the guest sees this host's loopback as
// 10.0.2.2 through QEMU's user networking, so the orchestrator must run on this host).

/** Whether `repo` names a directory here rather than a URL (`https://`, `git://`, `host:path`). */
export async function isLocalDirectory(repo: string): Promise<boolean> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo)) return false;
  return (await stat(repo).catch(() => undefined))?.isDirectory() === true;
}

/** A local repository being served: the URL the guest clones, and how to stop serving it. */
export interface ServedRepository {
  /** `git://10.0.2.2:PORT/repo`. */
  readonly guestUrl: string;
  /** The repository's real path (for resolving refs here). */
  readonly path: string;
  close(): Promise<void>;
}

/**
 * Serves the directory `repo` read-only (only it: the daemon's base is a private directory with a
 * link to it).
 */
export async function serveLocalRepository(repo: string): Promise<ServedRepository> {
  const path = await realpath(repo);
  const base = await mkdtemp(join(tmpdir(), "ciadm-git-"));
  await symlink(path, join(base, "repo"));
  let daemon: GitDaemon;
  try {
    daemon = await GitDaemon.start(base);
  } catch (error) {
    await rm(base, { recursive: true, force: true });
    throw error;
  }
  return {
    guestUrl: daemon.guestUrl("repo"),
    path,
    async close() {
      await daemon.stop();
      await rm(base, { recursive: true, force: true });
    },
  };
}

/**
 * The URL to resolve refs at from this host: a `10.0.2.2` URL (how a guest reaches this host) is
 * `127.0.0.1` here; any other URL is the same.
 */
export function hostSideUrl(url: string): string {
  return url.replace(
    new RegExp(
      `^([a-z][a-z0-9+.-]*://(?:[^@/]*@)?)${GUEST_HOST_ADDRESS.replaceAll(".", "\\.")}(?=[:/]|$)`,
      "i",
    ),
    "$1127.0.0.1",
  );
}
