import { git } from "./git-command.ts";

/** A ref of a remote repository and its commit. */
export interface RemoteRef {
  readonly ref: string;
  readonly sha: string;
}

/** Whether a `--repo` value is a URL (`https://…`, `git://…`, `ssh://…`, `git@host:path`) rather than a path. */
export function isRepositoryUrl(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^[^/@:\s]+@[^/:\s]+:/.test(value);
}

/**
 * Resolves `ref` (a branch, a tag, `HEAD`, or a full ref) on the remote with `git ls-remote`.
 * Undefined when the remote has no such ref.
 * @throws Error with git's message when the remote cannot be read
 */
export async function lsRemote(cwd: string, url: string, ref: string): Promise<RemoteRef | undefined> {
  const out = (await git(cwd, ["ls-remote", "--symref", "--", url, ref])).stdout;
  let symref: string | undefined;
  const refs: RemoteRef[] = [];
  for (const line of out.split("\n")) {
    const sym = /^ref: (\S+)\t(\S+)$/.exec(line);
    if (sym !== null) {
      symref = sym[1];
      continue;
    }
    const m = /^([0-9a-f]{40,64})\t(\S+)$/.exec(line);
    if (m !== null) refs.push({ sha: m[1]!, ref: m[2]! });
  }
  // Prefer the exact ref, then a branch, then a tag (peeled `^{}` for annotated tags).
  const pick =
    refs.find((r) => r.ref === ref) ??
    refs.find((r) => r.ref === `refs/heads/${ref}`) ??
    refs.find((r) => r.ref === `refs/tags/${ref}^{}`) ??
    refs.find((r) => r.ref === `refs/tags/${ref}`);
  if (pick === undefined) return undefined;
  if (pick.ref === "HEAD" && symref !== undefined) return { ref: symref, sha: pick.sha };
  return { ref: pick.ref.replace(/\^\{\}$/, ""), sha: pick.sha };
}
