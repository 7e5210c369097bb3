import type { JsonObject } from "@bufbuild/protobuf";

// The `github` context Forgejo sends as Task.context (services/actions/context.go
// GenerateGiteaContext, then task.go generateTaskContext adds the tokens). Values as Forgejo
// gives them: `server_url` is the instance's AppURL, which always ends in "/"; `api_url` is
// AppURL + "api/v1"; `workflow` is the workflow file's name; `workspace`, `event_path`,
// `retention_days` and the like are empty (the runner fills them in).

/** The repository a task runs for. */
export interface ContextRepository {
  readonly owner: string;
  readonly name: string;
  readonly id: bigint;
  readonly ownerId: bigint;
}

/** What a run's context depends on. */
export interface RunContextInput {
  /** The instance URL as the runner reaches it, without a trailing slash. */
  readonly publicUrl: string;
  readonly repository: ContextRepository;
  readonly sha: string;
  readonly ref: string;
  readonly eventName: string;
  readonly event: JsonObject;
  readonly runId: bigint;
  readonly runNumber: bigint;
  /** The workflow file's path in the repository, e.g. `.forgejo/workflows/ci.yml`. */
  readonly workflowFile: string;
  readonly actor: { readonly name: string; readonly id: bigint };
  /** Forgejo's version as the context reports it. */
  readonly serverVersion: string;
  /** The default URL actions are fetched from. */
  readonly defaultActionsUrl: string;
}

/** A run's context: everything but the job and the tokens. */
export function runContext(input: RunContextInput): JsonObject {
  const appUrl = `${input.publicUrl}/`;
  const { owner, name } = input.repository;
  let ref = input.ref;
  let sha = input.sha;
  let baseRef = "";
  let headRef = "";
  const pull = pullRequestRefs(input.event);
  if (pull !== undefined && input.eventName.startsWith("pull_request")) {
    baseRef = pull.baseRef;
    headRef = pull.headRef;
    // pull_request_target runs the base branch's workflow at the base's commit.
    if (input.eventName === "pull_request_target") {
      ref = `refs/heads/${pull.baseRef}`;
      sha = pull.baseSha;
    }
  }
  const { shortName, refType } = describeRef(ref);
  const slash = input.workflowFile.lastIndexOf("/");
  const workflowDirectory = slash < 0 ? "" : input.workflowFile.slice(0, slash);
  const workflowId = input.workflowFile.slice(slash + 1);
  return {
    action: "",
    action_path: "",
    action_ref: "",
    action_repository: "",
    action_status: "",
    actor: input.actor.name,
    actor_id: String(input.actor.id),
    api_url: `${appUrl}api/v1`,
    base_ref: baseRef,
    env: "",
    event: input.event,
    event_name: input.eventName,
    event_path: "",
    graphql_url: "",
    head_ref: headRef,
    job: "",
    path: "",
    ref,
    ref_name: shortName,
    ref_protected: false,
    ref_type: refType,
    repository: `${owner}/${name}`,
    repository_id: String(input.repository.id),
    repository_owner: owner,
    repository_owner_id: String(input.repository.ownerId),
    repositoryUrl: `${appUrl}${owner}/${name}`,
    retention_days: "",
    run_attempt: "",
    run_id: "",
    run_number: String(input.runNumber),
    secret_source: "Actions",
    server_url: appUrl,
    sha,
    triggering_actor: "",
    workflow: workflowId,
    workflow_ref: `${owner}/${name}/${workflowDirectory}/${workflowId}@${ref}`,
    workspace: "",
    gitea_default_actions_url: input.defaultActionsUrl,
    forgejo_default_actions_url: input.defaultActionsUrl,
    forgejo_server_version: input.serverVersion,
  };
}

/** What makes a run's context a task's. */
export interface TaskContextFields {
  readonly jobId: string;
  readonly runId: bigint;
  readonly attempt: number;
  /** The task token (also the GITHUB_TOKEN / GITEA_TOKEN / FORGEJO_TOKEN secrets). */
  readonly token: string;
  readonly runtimeToken: string;
}

/** A task's context: the run's, with the job, the attempt and the tokens. */
export function taskContext(run: JsonObject, fields: TaskContextFields): JsonObject {
  return {
    ...run,
    job: fields.jobId,
    run_id: String(fields.runId),
    run_attempt: String(fields.attempt),
    token: fields.token,
    gitea_runtime_token: fields.runtimeToken,
    forgejo_runtime_token: fields.runtimeToken,
  };
}

/** Forgejo's git.RefName ShortName() and RefType(). */
export function describeRef(ref: string): { shortName: string; refType: string } {
  const kinds: readonly (readonly [string, string])[] = [
    ["refs/heads/", "branch"],
    ["refs/tags/", "tag"],
    ["refs/pull/", "pull"],
    ["refs/for/", "for"],
  ];
  for (const [prefix, refType] of kinds) {
    if (!ref.startsWith(prefix)) continue;
    const rest = ref.slice(prefix.length);
    // refs/pull/7/head: the pull request's number.
    return { shortName: refType === "pull" ? (rest.split("/")[0] ?? rest) : rest, refType };
  }
  return { shortName: ref, refType: "" };
}

function pullRequestRefs(
  event: JsonObject,
): { baseRef: string; headRef: string; baseSha: string } | undefined {
  const pr = event.pull_request;
  if (pr === null || typeof pr !== "object" || Array.isArray(pr)) return undefined;
  const base = pr.base;
  const head = pr.head;
  if (base === null || typeof base !== "object" || Array.isArray(base)) return undefined;
  if (head === null || typeof head !== "object" || Array.isArray(head)) return undefined;
  const text = (v: unknown): string => (typeof v === "string" ? v : "");
  return { baseRef: text(base.ref), headRef: text(head.ref), baseSha: text(base.sha) };
}
