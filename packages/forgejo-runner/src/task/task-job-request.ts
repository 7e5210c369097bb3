import {
  type JobOwner,
  type JobRequest,
  newJobRequest,
  parseActionsWorkflow,
  type TranslatedJob,
  translateJob,
} from "@solstice/common";
import type { Task } from "@solstice/forgejo-protocol";
import { TaskTranslationError } from "../errors.ts";
import { contextSecrets, type RunnerIdentity, taskContexts } from "./task-contexts.ts";

// A Forgejo task → the JobRequest the orchestrator runs. The payload is one job of a workflow
// (matrix already chosen by Forgejo); common's translateJob does the Actions semantics. The
// workspace is left empty: the job's own `actions/checkout` step fetches the repository, with
// the task token, so private repositories work.

/** What {@link taskToJobRequest} needs beside the task. */
export interface TaskJobRequestInput {
  readonly task: Task;
  readonly owner: JobOwner;
  readonly runner: RunnerIdentity;
  /** Where checkouts fetch from instead of `<server_url>/<repository>` (a mirror). */
  readonly checkoutUrl?: string;
}

/** The request, the translation (name, outputs, warnings) and every value to mask in logs. */
export interface TaskJob {
  readonly request: JobRequest;
  readonly translated: TranslatedJob;
  readonly mask: readonly string[];
}

/** Env the Forgejo runner gives every step (below the workflow's own `env`). */
export function forgejoRunnerEnv(serverUrl: string | undefined): Record<string, string> {
  return {
    FORGEJO_ACTIONS: "true",
    GITEA_ACTIONS: "true",
    ...(serverUrl === undefined ? {} : { GITHUB_SERVER_URL: serverUrl }),
  };
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * Translates a task. Throws `TaskTranslationError` (payload missing or not a workflow; its
 * message names the file and line) — the caller reports the task failed with it.
 */
export async function taskToJobRequest(input: TaskJobRequestInput): Promise<TaskJob> {
  const { task } = input;
  const taskId = task.id.toString();
  if (task.workflowPayload === undefined || task.workflowPayload.length === 0) {
    throw new TaskTranslationError(taskId, "the task has no workflow payload");
  }
  const yaml = new TextDecoder().decode(task.workflowPayload);
  const { contexts, token } = taskContexts(task, input.runner);
  const github = contexts.github ?? {};
  const workflowPath = text(github["workflow_ref"])?.split("@")[0]?.split("/").slice(2).join("/");
  const file = `task-${taskId}.yml`;
  let translated: TranslatedJob;
  try {
    const workflow = await parseActionsWorkflow(yaml, file);
    translated = translateJob({
      workflow,
      contexts,
      owner: input.owner,
      runnerEnv: forgejoRunnerEnv(text(github["server_url"])),
      ...(workflowPath === undefined || workflowPath === "" ? {} : { workflowPath }),
      ...(input.checkoutUrl === undefined ? {} : { checkoutUrl: input.checkoutUrl }),
    });
  } catch (error) {
    throw new TaskTranslationError(taskId, error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
  const serverUrl = text(github["server_url"]) ?? "";
  const repository = text(github["repository"]) ?? "";
  const sha = text(github["sha"]);
  if (sha === undefined) throw new TaskTranslationError(taskId, "the task context has no sha");
  const mask = [
    ...new Set([...translated.request.mask, ...contextSecrets(task), ...(token === "" ? [] : [token])]),
  ];
  const request = newJobRequest({
    source: "forgejo",
    repo_url: input.checkoutUrl ?? `${serverUrl}/${repository}`,
    commit_sha: sha,
    ...translated.request,
    mask,
  });
  return { request, translated, mask };
}
