// Who may fetch from a repository over HTTP, as Forgejo decides it for Actions (routers/web/repo
// githttp.go httpBase): a public repository to anyone; a private one only with the token of a
// task running for that repository (sent as HTTP Basic credentials). A missing or unknown token
// where one is needed is 401 with `WWW-Authenticate: Basic`; a task token of another repository
// is 403. This server is read-only: pushing is refused even with a good token.

/** A repository as access control sees it. */
export interface GitRepositoryAccess {
  readonly fullName: string;
  readonly private: boolean;
}

/** The decision for one request. */
export type GitAccessDecision =
  | { readonly allow: true }
  | { readonly allow: false; readonly status: 401 | 403 | 404; readonly message: string };

/** Decides whether a git request may go on. */
export function decideGitAccess(input: {
  readonly repository: GitRepositoryAccess | undefined;
  readonly push: boolean;
  /** The token from the Basic credentials, if any. */
  readonly token: string | undefined;
  /** The repository (`owner/name`) of the running task with this token, if any. */
  readonly taskRepositoryOf: (token: string) => string | undefined;
}): GitAccessDecision {
  const { repository, push, token } = input;
  if (repository === undefined) return { allow: false, status: 404, message: "Repository not found" };
  if (token === undefined) {
    if (push || repository.private) return { allow: false, status: 401, message: "Unauthorized" };
    return { allow: true };
  }
  const taskRepository = input.taskRepositoryOf(token);
  if (taskRepository === undefined) return { allow: false, status: 401, message: "invalid credentials" };
  if (taskRepository !== repository.fullName && (push || repository.private)) {
    return { allow: false, status: 403, message: "User permission denied" };
  }
  if (push) return { allow: false, status: 403, message: "this test server serves repositories read-only" };
  return { allow: true };
}
