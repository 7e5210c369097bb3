import type { JsonObject } from "@bufbuild/protobuf";

// The `event` object of a run Forgejo started on a push: the webhook's PushPayload (api.PushPayload
// in Forgejo's modules/structs), cut down to the fields workflows read.

/** What a push event needs. */
export interface PushEventInput {
  /** The instance URL as the runner reaches it, without a trailing slash. */
  readonly publicUrl: string;
  readonly owner: string;
  readonly name: string;
  readonly repositoryId: bigint;
  readonly ownerId: bigint;
  readonly private: boolean;
  readonly defaultBranch: string;
  readonly ref: string;
  readonly sha: string;
  readonly actor: string;
}

/** A push webhook payload. */
export function pushEvent(input: PushEventInput): JsonObject {
  const htmlUrl = `${input.publicUrl}/${input.owner}/${input.name}`;
  const user = {
    id: Number(input.ownerId),
    login: input.actor,
    username: input.actor,
    full_name: "",
    email: `${input.actor}@noreply.localhost`,
  };
  const commit = {
    id: input.sha,
    message: "test commit\n",
    url: `${htmlUrl}/commit/${input.sha}`,
    author: { name: input.actor, email: user.email, username: input.actor },
    committer: { name: input.actor, email: user.email, username: input.actor },
    timestamp: new Date(0).toISOString(),
    added: [],
    removed: [],
    modified: [],
  };
  return {
    ref: input.ref,
    before: "0".repeat(40),
    after: input.sha,
    compare_url: `${htmlUrl}/compare/${"0".repeat(40)}...${input.sha}`,
    commits: [commit],
    total_commits: 1,
    head_commit: commit,
    repository: {
      id: Number(input.repositoryId),
      owner: { id: Number(input.ownerId), login: input.owner, username: input.owner },
      name: input.name,
      full_name: `${input.owner}/${input.name}`,
      private: input.private,
      html_url: htmlUrl,
      clone_url: `${htmlUrl}.git`,
      default_branch: input.defaultBranch,
    },
    pusher: user,
    sender: user,
  };
}
