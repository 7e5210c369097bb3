import type { RunnerRecord } from "../runners/runner-registry.ts";
import type { ServerUrls } from "../server-context.ts";

// A runner as the REST API shows it, and as /actions/runners/register answers it: with the
// OAuth client the runner authenticates as under the key `authorization`.

/** The runner object of GitHub's REST API. */
export function runnerJson(runner: RunnerRecord, busy: boolean): Record<string, unknown> {
  return {
    id: runner.id,
    name: runner.name,
    os: runner.lastOs ?? "unknown",
    status: runner.lastPollAt === undefined ? "offline" : "online",
    busy,
    ephemeral: runner.ephemeral,
    runner_group_id: runner.groupId,
    labels: runner.labels.map((label, i) => ({
      id: i + 1,
      name: label.name,
      type: label.type === "system" ? "read-only" : "custom",
    })),
  };
}

/** The register answer: the runner plus its `authorization`. */
export function registeredRunnerJson(runner: RunnerRecord, urls: ServerUrls): Record<string, unknown> {
  return {
    ...runnerJson(runner, false),
    authorization: {
      authorization_url: urls.oauth,
      server_url: urls.broker,
      client_id: runner.clientId,
      // Empty: no auth migration; a runner must then use authorization_url.
      legacy_authorization_url: null,
    },
  };
}

/** The only runner group: the default one. */
export const DEFAULT_RUNNER_GROUP = {
  id: 1,
  name: "Default",
  visibility: "all",
  // The key the runner reads (`default`), not `is_default`.
  default: true,
  is_hosted: false,
  inherited: false,
  allows_public_repositories: true,
  restricted_to_workflows: false,
  selected_workflows: [],
  workflow_restrictions_read_only: false,
} as const;
