import { execFile } from "node:child_process";
import { promisify } from "node:util";

// Resolving a branch, tag or ref of a remote repository to a commit, for both CLIs (`ciadm
// trigger --ref`, `cidev run --repo <url>`). The choice among the refs `git ls-remote` lists is a
// pure function, with git's own precedence (gitrevisions(7)): the name as given (`HEAD`, a full
// `refs/...`), then `refs/tags/<name>`, then `refs/heads/<name>`; an annotated tag gives the
// commit it tags.

const run = promisify(execFile);

/** A ref of a remote repository and its commit. */
export interface RemoteRef {
  readonly ref: string;
  readonly sha: string;
}

/**
 * Picks `ref` among the lines of `git ls-remote --symref` output. Undefined when none matches.
 *
 * @example
 *   pickRemoteRef("ref: refs/heads/main\tHEAD\n1111…\tHEAD\n1111…\trefs/heads/main\n", "HEAD");
 *   // { ref: "refs/heads/main", sha: "1111…" }
 */
export function pickRemoteRef(lsRemoteOutput: string, ref: string): RemoteRef | undefined {
  let symref: string | undefined;
  const refs = new Map<string, string>();
  for (const line of lsRemoteOutput.split("\n")) {
    const sym = /^ref: (\S+)\t(\S+)$/.exec(line);
    if (sym !== null) {
      if (sym[2] === ref) symref = sym[1];
      continue;
    }
    const m = /^([0-9a-f]{40,64})\t(\S+)$/.exec(line);
    if (m !== null) refs.set(m[2] as string, m[1] as string);
  }
  for (const candidate of [ref, `refs/tags/${ref}`, `refs/heads/${ref}`]) {
    const sha = refs.get(`${candidate}^{}`) ?? refs.get(candidate);
    if (sha === undefined) continue;
    return { ref: candidate === ref && symref !== undefined ? symref : candidate, sha };
  }
  return undefined;
}

/**
 * Resolves `ref` in the repository at `url` with `git ls-remote` (60 s at most, never prompting
 * for credentials). Undefined when the remote has no such ref.
 * @throws Error with git's message when the remote cannot be read
 */
export async function resolveRemoteRef(url: string, ref: string): Promise<RemoteRef | undefined> {
  let stdout: string;
  try {
    ({ stdout } = await run("git", ["ls-remote", "--symref", "--", url, ref], {
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
      timeout: 60_000,
      maxBuffer: 16 * 1024 * 1024,
    }));
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(stderr || (error as Error).message);
  }
  return pickRemoteRef(stdout, ref);
}
