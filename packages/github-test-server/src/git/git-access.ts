// Who may fetch a repository over HTTP, as GitHub decides for Actions: a public repository
// anyone; a private one with a token that can read it — the GITHUB_TOKEN of a job running for
// that repository (sent by actions/checkout as `x-access-token:<token>` Basic credentials), a
// PAT, or an installation token of the owner. No or unknown credentials: 401 asking for Basic;
// credentials that cannot see the repository: 404 (GitHub does not reveal private repositories).
// This server is read-only: pushes are refused.

/** The decision for one request. */
export type GitAccessDecision =
  | { readonly allow: true }
  | { readonly allow: false; readonly status: 401 | 403 | 404; readonly message: string };

/** What a token may read. */
export type TokenReach = "unknown" | "none" | "read";

/** Decides whether a git request may go on. */
export function decideGitAccess(input: {
  readonly repository: { readonly private: boolean } | undefined;
  readonly push: boolean;
  readonly token: string | undefined;
  /** What the token may do with this repository. */
  readonly reachOf: (token: string) => TokenReach;
}): GitAccessDecision {
  const { repository, push, token } = input;
  if (repository === undefined) return { allow: false, status: 404, message: "Repository not found." };
  if (token === undefined) {
    if (push || repository.private) return { allow: false, status: 401, message: "Authentication required" };
    return { allow: true };
  }
  const reach = input.reachOf(token);
  if (reach === "unknown") return { allow: false, status: 401, message: "Invalid username or token." };
  if (reach === "none" && repository.private)
    return { allow: false, status: 404, message: "Repository not found." };
  if (push) return { allow: false, status: 403, message: "this test server serves repositories read-only" };
  return { allow: true };
}
