import { execFileSync } from "node:child_process";
import { TestRepositoryError } from "../errors.ts";

// The repositories the test server knows: their names, ids, visibility, and — for those a test
// registered with a git directory — where git finds them, to serve them over HTTP and to resolve
// a task's ref to its commit.

/** A repository of the test instance. */
export interface RepositoryRecord {
  readonly owner: string;
  readonly name: string;
  /** `owner/name`. */
  readonly fullName: string;
  readonly id: bigint;
  readonly ownerId: bigint;
  readonly private: boolean;
  /** The git directory (absolute), when registered with one. */
  readonly gitDir?: string;
  /** The branch HEAD names, e.g. `main`. */
  readonly defaultBranch: string;
}

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_COUNT: "1",
  GIT_CONFIG_KEY_0: "safe.directory",
  GIT_CONFIG_VALUE_0: "*",
};

/** The instance's repositories. */
export class RepositoryRegistry {
  readonly #repositories = new Map<string, RepositoryRecord>();
  readonly #ownerIds = new Map<string, bigint>();
  #nextRepositoryId = 1n;

  /** Registers (or replaces) a repository served from `path`. */
  add(fullName: string, path: string, options: { private?: boolean }): RepositoryRecord {
    const { owner, name } = splitFullName(fullName, path);
    let gitDir: string;
    try {
      gitDir = git(["-C", path, "rev-parse", "--absolute-git-dir"]);
    } catch (error) {
      throw new TestRepositoryError(fullName, path, "not a git repository", { cause: error });
    }
    let defaultBranch = "main";
    try {
      defaultBranch = git(["--git-dir", gitDir, "symbolic-ref", "--short", "HEAD"]);
    } catch {
      // A detached HEAD: keep "main".
    }
    const record: RepositoryRecord = {
      owner,
      name,
      fullName: `${owner}/${name}`,
      id: this.#repositories.get(fullName)?.id ?? this.#nextRepositoryId++,
      ownerId: this.#ownerId(owner),
      private: options.private ?? false,
      gitDir,
      defaultBranch,
    };
    this.#repositories.set(record.fullName, record);
    return record;
  }

  /** The repository of that name; one without a git directory is made up for tasks naming it. */
  getOrDescribe(fullName: string): RepositoryRecord {
    const known = this.#repositories.get(fullName);
    if (known !== undefined) return known;
    const { owner, name } = splitFullName(fullName, "(none)");
    const record: RepositoryRecord = {
      owner,
      name,
      fullName,
      id: this.#nextRepositoryId++,
      ownerId: this.#ownerId(owner),
      private: false,
      defaultBranch: "main",
    };
    this.#repositories.set(fullName, record);
    return record;
  }

  /** The repository served at `owner/name`, if it has a git directory. */
  served(fullName: string): (RepositoryRecord & { readonly gitDir: string }) | undefined {
    const record = this.#repositories.get(fullName);
    return record?.gitDir === undefined
      ? undefined
      : (record as RepositoryRecord & { readonly gitDir: string });
  }

  /** The commit `ref` names in the repository. */
  resolveRef(repository: RepositoryRecord & { readonly gitDir: string }, ref: string): string {
    try {
      return git(["--git-dir", repository.gitDir, "rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    } catch (error) {
      throw new TestRepositoryError(repository.fullName, repository.gitDir, `no commit at ${ref}`, {
        cause: error,
      });
    }
  }

  #ownerId(owner: string): bigint {
    let id = this.#ownerIds.get(owner);
    if (id === undefined) {
      id = BigInt(this.#ownerIds.size + 1);
      this.#ownerIds.set(owner, id);
    }
    return id;
  }
}

function splitFullName(fullName: string, path: string): { owner: string; name: string } {
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(fullName);
  if (match === null || match[2]?.endsWith(".git")) {
    throw new TestRepositoryError(fullName, path, "the name must be owner/name (letters, digits, - _ .)");
  }
  return { owner: match[1] ?? "", name: match[2] ?? "" };
}

function git(args: readonly string[]): string {
  return execFileSync("git", args, {
    env: GIT_ENV,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}
