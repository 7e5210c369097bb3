import { RUN_DIR_NAME, RUNNER_TEMP_NAME, WORKSPACE_DIR_NAME } from "./guest-layout.ts";
import { shQuote } from "./shell-quote.ts";

// The guest's side of a job before its steps, as one POSIX shell script run over SSH (one round
// trip, few processes: guests under TCG are slow to fork): make the run directory, then check the
// workspace out with `git` (only `git` and `/bin/sh` are needed in the guest;
// the original runner shelled out to git too). The commit is fetched by its id; a server that
// refuses fetching by id gets a fetch of all branches and tags instead. HEAD must end up at
// exactly the requested commit, else the script fails.

/** What the script needs. */
export interface WorkspaceScriptInput {
  readonly repoUrl: string;
  readonly commitSha: string;
  /** History depth for the fetch by commit id; 0 fetches the whole history. Default 1. */
  readonly depth?: number;
  /**
   * False: only make an empty workspace (the job's steps check out themselves, e.g. Actions'
   * checkout with the task's token). Default true.
   */
  readonly checkout?: boolean;
}

/** The first line the script prints, followed by the workspace's absolute path. */
export const WORKSPACE_MARKER = "solstice: workspace ";
/** The line the script prints last, followed by the checked-out commit id. */
export const CHECKOUT_DONE_MARKER = "solstice: HEAD is now at ";

/**
 * The script. Paths are under the SSH user's `$HOME` (see guest-layout.ts); the first line it
 * prints names the workspace. The repository URL is never echoed (it may carry a token).
 *
 * @example
 *   renderWorkspaceScript({ repoUrl: "git://10.0.2.2/repo", commitSha: sha });
 */
export function renderWorkspaceScript(input: WorkspaceScriptInput): string {
  if (!/^[0-9a-fA-F]{4,64}$/.test(input.commitSha)) {
    throw new TypeError(`commit_sha must be a hexadecimal commit id, got ${JSON.stringify(input.commitSha)}`);
  }
  if (input.checkout === false) return renderEmptyWorkspaceScript();
  const depth = input.depth ?? 1;
  if (!Number.isInteger(depth) || depth < 0) throw new RangeError("depth must be a non-negative integer");
  const sha = input.commitSha.toLowerCase();
  const depthFlag = depth === 0 ? "" : ` --depth=${depth}`;
  return `set -e
h=\${HOME:-$(pwd)}
ws="$h/${WORKSPACE_DIR_NAME}"
run="$h/${RUN_DIR_NAME}"
url=${shQuote(input.repoUrl)}
sha=${shQuote(sha)}
mkdir -p -m 700 "$run" "$run/${RUNNER_TEMP_NAME}"
echo "${WORKSPACE_MARKER}$ws"
if ! command -v git >/dev/null 2>&1; then
  echo "solstice: git is not installed in the guest (the image needs /bin/sh and git)" >&2
  exit 127
fi
if [ -d "$ws/.git" ]; then
  cd "$ws"
  git remote set-url origin "$url" 2>/dev/null || git remote add origin "$url"
else
  git init -q "$ws"
  cd "$ws"
  git remote add origin "$url"
fi
echo "solstice: fetching commit $sha"
if ! git fetch -q --no-tags${depthFlag} origin "$sha"; then
  echo "solstice: the server refused to fetch the commit by id; fetching all branches and tags"
  git fetch -q --tags origin '+refs/heads/*:refs/remotes/origin/*'
fi
git -c advice.detachedHead=false checkout -q --force --detach "$sha"
# A detached HEAD is the commit id itself: read it without another git process.
read -r head <.git/HEAD
case "$head" in
  "$sha"*) ;;
  *) echo "solstice: HEAD is $head, not the requested commit $sha" >&2; exit 1 ;;
esac
echo "${CHECKOUT_DONE_MARKER}$head"
`;
}

/** The script without a checkout: the run directory and an empty workspace. */
function renderEmptyWorkspaceScript(): string {
  return `set -e
h=\${HOME:-$(pwd)}
ws="$h/${WORKSPACE_DIR_NAME}"
run="$h/${RUN_DIR_NAME}"
mkdir -p -m 700 "$run" "$run/${RUNNER_TEMP_NAME}"
echo "${WORKSPACE_MARKER}$ws"
mkdir -p "$ws"
echo "solstice: the workspace starts empty (the job checks the repository out itself)"
`;
}
