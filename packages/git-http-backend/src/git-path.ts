// Which URLs are git's smart (and dumb) HTTP protocol on a forge (Forgejo, GitHub): a repository is
// `/{owner}/{name}` or `/{owner}/{name}.git`, followed by one of git's own paths.

/** A git request's repository and git's part of the path. */
export interface GitPath {
  readonly owner: string;
  readonly name: string;
  /** What follows the repository, e.g. `info/refs` or `git-upload-pack`. */
  readonly rest: string;
  /** Whether the request pushes (git-receive-pack, as the path or the info/refs service). */
  readonly push: boolean;
}

const GIT_REST = /^(info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/.+)$/;
const SEGMENT = /^[A-Za-z0-9_.-]+$/;

/** The git request `pathname` (without the query) names, if any. */
export function parseGitPath(pathname: string, query: URLSearchParams): GitPath | undefined {
  const parts = pathname.split("/");
  // ["", owner, name(.git), ...rest]
  if (parts.length < 4 || parts[0] !== "") return undefined;
  const owner = parts[1] ?? "";
  const name = (parts[2] ?? "").replace(/\.git$/, "");
  const rest = parts.slice(3).join("/");
  if (!SEGMENT.test(owner) || !SEGMENT.test(name) || name === "" || !GIT_REST.test(rest)) return undefined;
  if (rest.split("/").some((p) => p === ".." || p === ".")) return undefined;
  const push =
    rest === "git-receive-pack" || (rest === "info/refs" && query.get("service") === "git-receive-pack");
  return { owner, name, rest, push };
}
