import type { RepositoryRecord } from "../repositories/repository-registry.ts";

// The `github` context GitHub sends in a job message's contextData, and a push event payload to
// go in it. The runner adds `token`, `job`, `workspace`, `action`… itself.

/** What the github context is made of. */
export interface GitHubContextInput {
  readonly serverUrl: string;
  readonly apiUrl: string;
  readonly repository: RepositoryRecord;
  readonly sha: string;
  readonly ref: string;
  readonly eventName: string;
  readonly event: Readonly<Record<string, unknown>>;
  readonly runId: number;
  readonly runNumber: number;
  readonly runAttempt: number;
  readonly workflowName: string;
  readonly workflowFile: string;
  readonly actor: string;
  readonly actorId: number;
  readonly jobKey: string;
}

/** The ref's short name and type (`refs/heads/main` → `main`, branch). */
function refParts(ref: string): { name: string; type: string } {
  if (ref.startsWith("refs/heads/")) return { name: ref.slice(11), type: "branch" };
  if (ref.startsWith("refs/tags/")) return { name: ref.slice(10), type: "tag" };
  if (ref.startsWith("refs/pull/")) return { name: ref.slice(5), type: "branch" };
  return { name: ref, type: "branch" };
}

/** The github context (plain values; see context-data-json for the wire form). */
export function gitHubContext(input: GitHubContextInput): Record<string, unknown> {
  const { repository } = input;
  const ref = refParts(input.ref);
  const host = new URL(input.serverUrl).host;
  const pullRequest = input.event.pull_request as
    | { head?: { ref?: string }; base?: { ref?: string } }
    | undefined;
  return {
    action_ref: "",
    action_repository: "",
    actor: input.actor,
    actor_id: String(input.actorId),
    api_url: input.apiUrl,
    artifact_cache_size_limit: "10",
    base_ref: pullRequest?.base?.ref ?? "",
    event: input.event,
    event_name: input.eventName,
    graphql_url: `${input.apiUrl}/graphql`,
    head_ref: pullRequest?.head?.ref ?? "",
    job: input.jobKey,
    ref: input.ref,
    ref_name: ref.name,
    ref_protected: false,
    ref_type: ref.type,
    repository: repository.fullName,
    repository_id: String(repository.id),
    repository_owner: repository.owner,
    repository_owner_id: String(repository.ownerId),
    repositoryUrl: `git://${host}/${repository.fullName}.git`,
    retention_days: "90",
    run_attempt: String(input.runAttempt),
    run_id: String(input.runId),
    run_number: String(input.runNumber),
    secret_source: "Actions",
    server_url: input.serverUrl,
    sha: input.sha,
    triggering_actor: input.actor,
    workflow: input.workflowName,
    workflow_ref: `${repository.fullName}/${input.workflowFile}@${input.ref}`,
    workflow_sha: input.sha,
  };
}

/** A push event payload for `ref` at `sha`. */
export function pushEvent(input: {
  readonly serverUrl: string;
  readonly apiUrl: string;
  readonly repository: RepositoryRecord;
  readonly ref: string;
  readonly sha: string;
  readonly actor: string;
  readonly actorId: number;
}): Record<string, unknown> {
  const { repository } = input;
  const htmlUrl = `${input.serverUrl}/${repository.fullName}`;
  const user = { login: input.actor, id: input.actorId, type: "User" };
  return {
    ref: input.ref,
    before: "0000000000000000000000000000000000000000",
    after: input.sha,
    created: false,
    deleted: false,
    forced: false,
    compare: `${htmlUrl}/compare/${input.sha}`,
    commits: [],
    head_commit: {
      id: input.sha,
      tree_id: input.sha,
      message: "test commit",
      timestamp: new Date().toISOString(),
    },
    pusher: { name: input.actor, email: `${input.actor}@users.noreply.example` },
    repository: {
      id: repository.id,
      name: repository.name,
      full_name: repository.fullName,
      private: repository.private,
      owner: { login: repository.owner, id: repository.ownerId, type: "Organization" },
      html_url: htmlUrl,
      url: `${input.apiUrl}/repos/${repository.fullName}`,
      clone_url: `${htmlUrl}.git`,
      default_branch: repository.defaultBranch,
      master_branch: repository.defaultBranch,
    },
    sender: user,
  };
}
