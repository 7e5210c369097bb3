import { execFileSync } from "node:child_process";
import { TestRepositoryError } from "../errors.ts";

// The repositories (and so the owners) the test server knows: names, ids, visibility, and, for
// those a test gave a git directory, where git finds them (to serve them and resolve refs).

/** A repository of the test instance. */
export interface RepositoryRecord {
  readonly owner: string;
  readonly name: string;
  /** `owner/name`. */
  readonly fullName: string;
  readonly id: number;
  readonly ownerId: number;
  readonly private: boolean;
  /** The git directory (absolute), when served. */
  readonly gitDir: string | undefined;
  /** The branch HEAD names, e.g. `main`. */
  readonly defaultBranch: string;
}

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_COUNT: "1",
  GIT_CONFIG_KEY_0: "safe.directory",
  GIT_CONFIG_VALUE_0: "*",
};

const NAME = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/;

/** The instance's repositories. */
export class RepositoryRegistry {
  readonly #repositories = new Map<string, RepositoryRecord>();
  readonly #ownerIds = new Map<string, number>();
  #nextId = 1;

  /** Registers (or replaces) a repository; with `gitDir`, it is served over HTTP. */
  add(fullName: string, options: { gitDir?: string; private?: boolean } = {}): RepositoryRecord {
    const { owner, name } = splitFullName(fullName);
    let gitDir: string | undefined;
    let defaultBranch = "main";
    if (options.gitDir !== undefined) {
      try {
        gitDir = git(["-C", options.gitDir, "rev-parse", "--absolute-git-dir"]);
      } catch (error) {
        throw new TestRepositoryError(fullName, `${options.gitDir} is not a git repository`, {
          cause: error,
        });
      }
      try {
        defaultBranch = git(["--git-dir", gitDir, "symbolic-ref", "--short", "HEAD"]);
      } catch {
        // A detached HEAD: keep "main".
      }
    }
    const key = `${owner}/${name}`.toLowerCase();
    const record: RepositoryRecord = {
      owner,
      name,
      fullName: `${owner}/${name}`,
      id: this.#repositories.get(key)?.id ?? this.#nextId++,
      ownerId: this.#ownerId(owner),
      private: options.private ?? false,
      gitDir,
      defaultBranch,
    };
    this.#repositories.set(key, record);
    return record;
  }

  /** The repository of that name (names are case-insensitive on GitHub). */
  get(fullName: string): RepositoryRecord | undefined {
    return this.#repositories.get(fullName.toLowerCase());
  }

  /** Whether some repository belongs to `owner` (an organisation or user). */
  hasOwner(owner: string): boolean {
    return this.#ownerIds.has(owner.toLowerCase());
  }

  /** The owner's id (an organisation or user id). */
  ownerIdOf(owner: string): number | undefined {
    return this.#ownerIds.get(owner.toLowerCase());
  }

  /** The commit `ref` names in a served repository. */
  resolveRef(repository: RepositoryRecord, ref: string): string {
    if (repository.gitDir === undefined)
      throw new TestRepositoryError(repository.fullName, "it has no git directory");
    try {
      return git(["--git-dir", repository.gitDir, "rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    } catch (error) {
      throw new TestRepositoryError(repository.fullName, `no commit at ${ref}`, { cause: error });
    }
  }

  #ownerId(owner: string): number {
    const key = owner.toLowerCase();
    let id = this.#ownerIds.get(key);
    if (id === undefined) {
      id = 1000 + this.#ownerIds.size;
      this.#ownerIds.set(key, id);
    }
    return id;
  }
}

function splitFullName(fullName: string): { owner: string; name: string } {
  const match = NAME.exec(fullName);
  if (match === null || match[2]?.endsWith(".git")) {
    throw new TestRepositoryError(fullName, "the name must be owner/name (letters, digits, - _ .)");
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
