import { type ActionsContexts, applyJobToken, FORGEJO_TOKEN_SECRETS, type Need } from "@solstice/common";
import { Result, type Task } from "@solstice/forgejo-protocol";

// A Forgejo task's contexts as Actions expressions see them. `context` is the `github` context
// (Forgejo sends the same keys, plus gitea_*/forgejo_* ones); secrets, vars and needs come as
// maps. As in the Forgejo runner, a secret named GITHUB_TOKEN, GITEA_TOKEN or FORGEJO_TOKEN
// overrides the task token, and the token is also `secrets.GITHUB_TOKEN` (and the other two):
// common's `applyJobToken`.

/** A `needs` result as the `needs` context spells it. */
export function needResult(result: Result): string {
  switch (result) {
    case Result.SUCCESS:
      return "success";
    case Result.FAILURE:
      return "failure";
    case Result.CANCELLED:
      return "cancelled";
    case Result.SKIPPED:
      return "skipped";
    default:
      return "";
  }
}

/** What the runner knows about itself, for the `runner` context. */
export interface RunnerIdentity {
  readonly name: string;
}

/** The task's contexts, and the token that authorises checkouts (the job token). */
export function taskContexts(
  task: Task,
  runner: RunnerIdentity,
): { contexts: ActionsContexts; token: string } {
  const github: Record<string, unknown> = { ...(task.context ?? {}) };
  // Forgejo's server_url is its AppURL, with a trailing slash; Actions' has none.
  for (const key of ["server_url", "api_url", "graphql_url"]) {
    const value = github[key];
    if (typeof value === "string") github[key] = value.replace(/\/+$/, "");
  }
  const secrets: Record<string, string> = { ...task.secrets };
  const token = applyJobToken(github, secrets, FORGEJO_TOKEN_SECRETS) ?? "";
  const needs: Record<string, Need> = {};
  for (const [id, need] of Object.entries(task.needs)) {
    needs[id] = { result: needResult(need.result), outputs: { ...need.outputs } };
  }
  return {
    contexts: {
      github,
      secrets,
      vars: { ...task.vars },
      needs,
      runner: { name: runner.name, arch: "X64", temp: "", tool_cache: "" },
    },
    token,
  };
}

/** Values of the context that must never reach a log, beside the secrets: the tokens. */
export function contextSecrets(task: Task): string[] {
  const context = task.context ?? {};
  return ["token", "gitea_runtime_token", "forgejo_runtime_token", "runtime_token"]
    .map((key) => context[key])
    .filter((value): value is string => typeof value === "string" && value !== "");
}
