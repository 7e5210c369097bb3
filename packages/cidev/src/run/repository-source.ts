import { resolve, sep } from "node:path";
import { resolveRemoteRef } from "@solstice/cli-kit";
import { GitRepositoryError } from "../errors.ts";
import { forgeNames, pathInRepository, repositoryFacts } from "../git/repository-facts.ts";
import { isRepositoryUrl } from "../git/repository-url.ts";
import { GitDaemon } from "./git-daemon.ts";
import { prepareRepoSnapshot, SNAPSHOT_REPO_NAME } from "./repo-snapshot.ts";

/** Where the guest gets the repository from, and which commit. */
export interface RepositorySource {
  /** What the guest clones (`git://10.0.2.2:PORT/repo.git` for a local repository). */
  readonly repoUrl: string;
  readonly commit: string;
  /** `github.ref` for Actions workflows. */
  readonly ref: string;
  /** `github.repository` and `github.server_url` for Actions workflows. */
  readonly repository: string;
  readonly serverUrl: string;
  /** The workflow file's path in the repository, when it is in it. */
  readonly workflowPath: string | null;
  /** For people: what is served, from where. */
  readonly describe: string;
  /** Stops serving. */
  close(): Promise<void>;
}

/** What `cidev run` says about the repository. */
export interface RepositoryChoice {
  /** The workflow file. */
  readonly file: string;
  /** `--repo`: a path to a local repository or a URL; default the repository holding the file. */
  readonly repo?: string | undefined;
  /** `--sha`: the commit; default HEAD (or the work tree's snapshot) / the remote's HEAD. */
  readonly sha?: string | undefined;
  /** A private temporary directory (the served repository goes there). */
  readonly tempDir: string;
}

/**
 * A local repository is served to the guest by `git daemon` (see repo-snapshot.ts for what
 * commit); a URL is handed to the guest as is (the guest must reach it), at `--sha` or the
 * remote's HEAD (`git ls-remote`).
 *
 * @throws GitRepositoryError
 */
export async function openRepositorySource(choice: RepositoryChoice): Promise<RepositorySource> {
  if (choice.repo !== undefined && isRepositoryUrl(choice.repo)) return remoteSource(choice.repo, choice);
  const where = choice.repo ?? choice.file;
  const facts = await repositoryFacts(where);
  if (facts === undefined) {
    throw new GitRepositoryError(
      where,
      `${where} is not in a git repository: cidev run checks the job's repository out in the VM`,
      "run it in a git repository (git init && git add -A && git commit -m init), or pass --repo <path|url>",
    );
  }
  const snapshot = await prepareRepoSnapshot(facts, choice.tempDir, { sha: choice.sha });
  const daemon = await GitDaemon.start(choice.tempDir);
  const names = forgeNames(facts);
  const inside = resolve(choice.file).startsWith(`${facts.root}${sep}`);
  const repoUrl = daemon.guestUrl(SNAPSHOT_REPO_NAME);
  return {
    repoUrl,
    commit: snapshot.commit,
    ref: facts.branch === undefined ? "refs/heads/main" : `refs/heads/${facts.branch}`,
    repository: names.repository,
    serverUrl: names.serverUrl,
    workflowPath: inside ? pathInRepository(facts, choice.file) : null,
    describe: `Serving ${facts.root} at ${snapshot.commit.slice(0, 12)} (${snapshot.describe}) as ${repoUrl}`,
    close: () => daemon.stop(),
  };
}

async function remoteSource(url: string, choice: RepositoryChoice): Promise<RepositorySource> {
  const hint = "check the URL and your access to it, or pass --sha <commit>";
  let commit = choice.sha;
  let ref = "refs/heads/main";
  if (commit === undefined) {
    const head = await resolveRemoteRef(url, "HEAD").catch((error: unknown) => {
      throw new GitRepositoryError(url, `cannot read ${url}: ${(error as Error).message}`, hint, error);
    });
    if (head === undefined) throw new GitRepositoryError(url, `${url} has no HEAD`, "pass --sha <commit>");
    commit = head.sha;
    ref = head.ref;
  }
  const names = forgeNames({ root: "", head: commit, branch: undefined, originUrl: url });
  return {
    repoUrl: url,
    commit,
    ref,
    repository: names.repository,
    serverUrl: names.serverUrl,
    workflowPath: null,
    describe: `The VM clones ${url} at ${commit.slice(0, 12)}`,
    close: async () => undefined,
  };
}
