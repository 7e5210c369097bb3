import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { GitRepositoryError } from "../errors.ts";
import { git } from "../git/git-command.ts";
import type { RepositoryFacts } from "../git/repository-facts.ts";

// What the guest clones for `cidev run`: a temporary bare repository that borrows the user's
// objects (`objects/info/alternates`) and has one branch, `cidev`, at the commit to run:
// - HEAD when the work tree is clean,
// - a snapshot commit of the work tree (tracked changes and untracked files that are not
//   ignored) on top of HEAD when it is not, so what you run is what you see,
// - the commit `--sha` names.
// Nothing is written to the user's repository: the snapshot's objects and its temporary index go
// to the temporary repository, which is deleted afterwards.

/** The repository name under the daemon's base path. */
export const SNAPSHOT_REPO_NAME = "repo.git";
const BRANCH = "cidev";

/** A commit made servable. */
export interface RepoSnapshot {
  /** The bare repository to serve (under `baseDir`, named `repo.git`). */
  readonly gitDir: string;
  /** The commit the guest checks out. */
  readonly commit: string;
  /** What `commit` is, for people: `HEAD`, a snapshot of the work tree, or the `--sha` given. */
  readonly describe: string;
  /** True when `commit` is a snapshot of uncommitted changes. */
  readonly snapshot: boolean;
}

/** Same author for every snapshot, so it needs no git identity of the user's. */
const SNAPSHOT_IDENTITY = {
  GIT_AUTHOR_NAME: "cidev",
  GIT_AUTHOR_EMAIL: "cidev@localhost",
  GIT_COMMITTER_NAME: "cidev",
  GIT_COMMITTER_EMAIL: "cidev@localhost",
};

/**
 * Prepares `facts.root`'s commit under `baseDir/repo.git`.
 * @throws GitRepositoryError naming the git command that failed
 */
export async function prepareRepoSnapshot(
  facts: RepositoryFacts,
  baseDir: string,
  options: { sha?: string | undefined } = {},
): Promise<RepoSnapshot> {
  const root = facts.root;
  const fail = (what: string, error: unknown, hint: string): never => {
    throw new GitRepositoryError(
      root,
      `${what}: ${error instanceof Error ? error.message : String(error)}`,
      hint,
      error,
    );
  };
  const gitDir = join(baseDir, SNAPSHOT_REPO_NAME);
  const objects = await git(root, ["rev-parse", "--git-path", "objects"]).catch((e: unknown) =>
    fail(
      `cannot read the repository at ${root}`,
      e,
      "run cidev inside a git repository, or pass --repo <url>",
    ),
  );
  const objectsDir = resolveFrom(root, objects.stdout.trim());
  await git(baseDir, ["init", "-q", "--bare", gitDir]).catch((e: unknown) =>
    fail("cannot create the temporary repository", e, "check that TMPDIR is writable"),
  );
  await mkdir(join(gitDir, "objects", "info"), { recursive: true });
  await writeFile(join(gitDir, "objects", "info", "alternates"), `${objectsDir}\n`);
  // The guest fetches the commit by id.
  await git(gitDir, ["config", "uploadpack.allowAnySHA1InWant", "true"]);

  let commit: string;
  let describe: string;
  let snapshot = false;
  if (options.sha !== undefined) {
    commit = (
      await git(root, ["rev-parse", "--verify", `${options.sha}^{commit}`]).catch((e: unknown) =>
        fail(`no commit ${options.sha} in ${root}`, e, "give a commit of this repository to --sha"),
      )
    ).stdout.trim();
    describe = `commit ${options.sha}`;
  } else {
    const status = await git(root, ["status", "--porcelain", "--untracked-files=all"]);
    if (status.stdout.trim() === "" && facts.head !== undefined) {
      commit = facts.head;
      describe = "HEAD";
    } else {
      commit = await snapshotWorkTree(facts, gitDir, objectsDir).catch((e: unknown) =>
        fail("cannot snapshot the work tree", e, "commit your changes, or pass --sha <commit>"),
      );
      describe =
        facts.head === undefined
          ? "a snapshot of the work tree; no commit yet"
          : "a snapshot of the work tree: uncommitted changes on top of HEAD";
      snapshot = true;
    }
  }
  await git(gitDir, ["update-ref", `refs/heads/${BRANCH}`, commit]);
  await git(gitDir, ["symbolic-ref", "HEAD", `refs/heads/${BRANCH}`]);
  return { gitDir, commit, describe, snapshot };
}

function resolveFrom(base: string, path: string): string {
  return isAbsolute(path) ? path : resolve(base, path);
}

/** A commit of the work tree as `git add -A` sees it, written into `gitDir` only. */
async function snapshotWorkTree(facts: RepositoryFacts, gitDir: string, objectsDir: string): Promise<string> {
  const index = join(gitDir, "cidev-index");
  const userIndex = resolveFrom(
    facts.root,
    (await git(facts.root, ["rev-parse", "--git-path", "index"])).stdout.trim(),
  );
  // Starting from the user's index saves hashing unchanged files again (its stat data is valid).
  await copyFile(userIndex, index).catch(() => undefined);
  const env = {
    GIT_INDEX_FILE: index,
    GIT_OBJECT_DIRECTORY: join(gitDir, "objects"),
    GIT_ALTERNATE_OBJECT_DIRECTORIES: objectsDir,
    ...SNAPSHOT_IDENTITY,
  };
  await git(facts.root, ["add", "-A", "."], env);
  const tree = (await git(facts.root, ["write-tree"], env)).stdout.trim();
  const parent = facts.head === undefined ? [] : ["-p", facts.head];
  const message = "cidev: snapshot of the work tree";
  return (await git(facts.root, ["commit-tree", tree, ...parent, "-m", message], env)).stdout.trim();
}
