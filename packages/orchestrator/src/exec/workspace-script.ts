import { shQuote } from "./shell-quote.ts";

// The workspace checkout, as a POSIX shell script run over SSH: only `git` and `/bin/sh` in the
// guest (the original runner shelled out to git too). The commit is fetched by its id; a server
// that refuses fetching by id gets a fetch of all branches and tags instead. HEAD must end up at
// exactly the requested commit, else the script fails.

/** What the checkout needs. */
export interface CheckoutInput {
  readonly workspace: string;
  readonly repoUrl: string;
  readonly commitSha: string;
  /** History depth for the fetch by commit id; 0 fetches the whole history. Default 1. */
  readonly depth?: number;
}

/** The line the script prints last, followed by the checked-out commit id. */
export const CHECKOUT_DONE_MARKER = "solstice: HEAD is now at ";

/**
 * The checkout script. The repository URL is never echoed (it may carry a token); the commit id is.
 *
 * @example
 *   renderCheckoutScript({ workspace: "/root/work", repoUrl: "git://10.0.2.2/repo", commitSha: sha });
 */
export function renderCheckoutScript(input: CheckoutInput): string {
  if (!/^[0-9a-fA-F]{4,64}$/.test(input.commitSha)) {
    throw new TypeError(`commit_sha must be a hexadecimal commit id, got ${JSON.stringify(input.commitSha)}`);
  }
  const depth = input.depth ?? 1;
  if (!Number.isInteger(depth) || depth < 0) throw new RangeError("depth must be a non-negative integer");
  const sha = input.commitSha.toLowerCase();
  const depthFlag = depth === 0 ? "" : ` --depth=${depth}`;
  return `set -e
ws=${shQuote(input.workspace)}
url=${shQuote(input.repoUrl)}
sha=${shQuote(sha)}
if ! command -v git >/dev/null 2>&1; then
  echo "solstice: git is not installed in the guest (the image needs /bin/sh and git)" >&2
  exit 127
fi
mkdir -p "$ws"
cd "$ws"
[ -d .git ] || git init -q .
if git remote get-url origin >/dev/null 2>&1; then git remote set-url origin "$url"; else git remote add origin "$url"; fi
echo "solstice: fetching commit $sha"
if ! git fetch -q --no-tags${depthFlag} origin "$sha"; then
  echo "solstice: the server refused to fetch the commit by id; fetching all branches and tags"
  git fetch -q --tags origin '+refs/heads/*:refs/remotes/origin/*'
fi
git -c advice.detachedHead=false checkout -q --force --detach "$sha"
head=$(git rev-parse HEAD)
case "$head" in
  "$sha"*) ;;
  *) echo "solstice: HEAD is $head, not the requested commit $sha" >&2; exit 1 ;;
esac
echo "${CHECKOUT_DONE_MARKER}$head"
`;
}
