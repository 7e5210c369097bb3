import { stat } from "node:fs/promises";
import { basename, relative, resolve, sep } from "node:path";
import { git } from "./git-command.ts";

/** What cidev knows of the git repository around a workflow file. */
export interface RepositoryFacts {
  /** The work tree's top directory (absolute). */
  readonly root: string;
  /** HEAD's commit id; undefined in a repository without commits. */
  readonly head: string | undefined;
  /** The checked-out branch (`main`); undefined for a detached HEAD. */
  readonly branch: string | undefined;
  /** `remote.origin.url`, when set. */
  readonly originUrl: string | undefined;
}

/** The repository containing `path` (a file or directory), or undefined when it is in none. */
export async function repositoryFacts(path: string): Promise<RepositoryFacts | undefined> {
  const dir = resolve(path);
  const cwd = (await isDirectory(dir)) ? dir : resolve(dir, "..");
  let root: string;
  try {
    root = (await git(cwd, ["rev-parse", "--show-toplevel"])).stdout.trim();
  } catch {
    return undefined;
  }
  const optional = async (args: string[]) => {
    try {
      const out = (await git(root, args)).stdout.trim();
      return out === "" ? undefined : out;
    } catch {
      return undefined;
    }
  };
  return {
    root,
    head: await optional(["rev-parse", "--verify", "-q", "HEAD^{commit}"]),
    branch: await optional(["symbolic-ref", "-q", "--short", "HEAD"]),
    originUrl: await optional(["config", "--get", "remote.origin.url"]),
  };
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

/** `file`'s path inside the repository, with `/` separators (`.solstice/workflow.kdl`). */
export function pathInRepository(facts: RepositoryFacts, file: string): string {
  return relative(facts.root, resolve(file)).split(sep).join("/");
}

/**
 * The forge-style names of a repository for the Actions `github` context: `owner/name` and the
 * server URL, from `origin` (`https://host/owner/name.git`, `git@host:owner/name.git`), else
 * `local/<directory>` on `https://localhost`.
 */
export function forgeNames(facts: RepositoryFacts | undefined): { repository: string; serverUrl: string } {
  const origin = facts?.originUrl;
  if (origin !== undefined) {
    const scp = /^[^@/]+@([^:/]+):(.+?)(?:\.git)?\/?$/.exec(origin);
    if (scp !== null) return { serverUrl: `https://${scp[1]}`, repository: scp[2]! };
    if (URL.canParse(origin)) {
      const url = new URL(origin);
      const path = url.pathname
        .replace(/^\/+/, "")
        .replace(/\.git\/?$/, "")
        .replace(/\/+$/, "");
      if (path.includes("/")) {
        const scheme = url.protocol === "http:" ? "http" : "https";
        return { serverUrl: `${scheme}://${url.host}`, repository: path };
      }
    }
  }
  const name = facts === undefined ? "workflow" : basename(facts.root);
  return { repository: `local/${name}`, serverUrl: "https://localhost" };
}
