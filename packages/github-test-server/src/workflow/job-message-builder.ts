import { randomUUID } from "node:crypto";
import type { ServerUrls } from "../server-context.ts";
import { type ContextDataJson, toContextData } from "./context-data-json.ts";
import { type StepJson, stepJson } from "./step-json.ts";
import type { TokenJson } from "./template-token-json.ts";
import { tokenToJson } from "./template-token-json.ts";
import type { WorkflowJobSelection } from "./workflow-job.ts";

// The AgentJobRequestMessage acquirejob answers, shaped as GitHub's run service shapes it
// (property names camelCase, dictionary keys as they are): a job is prepared when it is queued
// (workflow read, steps and contexts built), and rendered when a runner acquires it (the job's
// token and the service URLs put in).

/** Everything of a message but the job token and URLs. */
export interface PreparedJob {
  readonly jobId: string;
  readonly planId: string;
  readonly runnerRequestId: string;
  readonly billingOwnerId: string;
  readonly displayName: string;
  readonly workflowFile: string;
  readonly workflowName: string;
  readonly contextData: Readonly<Record<string, ContextDataJson>>;
  readonly steps: readonly StepJson[];
  readonly environmentVariables: readonly TokenJson[];
  readonly defaults: readonly TokenJson[];
  readonly jobOutputs: TokenJson | undefined;
  readonly jobContainer: TokenJson | undefined;
  readonly jobServiceContainers: TokenJson | undefined;
  readonly secrets: Readonly<Record<string, string>>;
  /** Extra variables (not secret) to send. */
  readonly variables: Readonly<Record<string, string>>;
}

/** What a job is prepared from. */
export interface PrepareJobInput {
  readonly selection: WorkflowJobSelection;
  readonly workflowFile: string;
  readonly github: Readonly<Record<string, unknown>>;
  readonly vars: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, string>>;
  readonly needs: Readonly<Record<string, unknown>>;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly billingOwnerId: string;
}

/** Prepares a job's message parts. */
export function prepareJob(input: PrepareJobInput): PreparedJob {
  const { selection } = input;
  const present = (tokens: readonly (TokenJson | undefined)[]): TokenJson[] =>
    tokens.filter((t): t is TokenJson => t !== undefined);
  const json = (token: Parameters<typeof tokenToJson>[0] | undefined): TokenJson | undefined =>
    token === undefined ? undefined : tokenToJson(token, selection.decoded);
  return {
    jobId: randomUUID(),
    planId: randomUUID(),
    runnerRequestId: randomUUID(),
    billingOwnerId: input.billingOwnerId,
    displayName: selection.displayName,
    workflowFile: input.workflowFile,
    workflowName: selection.workflowName,
    contextData: {
      github: toContextData(input.github),
      needs: toContextData(input.needs),
      strategy: toContextData(selection.strategy),
      matrix: toContextData(selection.matrix ?? {}),
      inputs: toContextData(input.inputs),
      vars: toContextData(input.vars),
    },
    steps: selection.steps.map((step) => stepJson(step, input.workflowFile, selection.decoded)),
    environmentVariables: present([json(selection.workflowEnv), json(selection.jobEnv)]),
    defaults: present([json(selection.workflowDefaults), json(selection.jobDefaults)]),
    jobOutputs: json(selection.jobOutputs),
    jobContainer: json(selection.jobContainer),
    jobServiceContainers: json(selection.jobServices),
    secrets: input.secrets,
    variables: { "system.github.job": selection.jobKey },
  };
}

/** A regex matching `value` literally (mask hints are regexes). */
function literalRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The message of a prepared job, with its token and the server's URLs. */
export function renderJobMessage(
  job: PreparedJob,
  input: { readonly jobToken: string; readonly urls: ServerUrls },
): Record<string, unknown> {
  const { urls, jobToken } = input;
  const variables: Record<string, { value: string; isSecret?: true }> = {};
  for (const [name, value] of Object.entries(job.variables)) variables[name] = { value };
  Object.assign(variables, {
    "system.github.results_endpoint": { value: urls.results },
    "system.orchestrationId": { value: `${job.planId}.${job.jobId}.__default` },
    "system.phaseDisplayName": { value: job.displayName },
    "system.runnerGroupName": { value: "Default" },
    "system.culture": { value: "en-US" },
    "system.github.token.permissions": { value: JSON.stringify({ contents: "read", metadata: "read" }) },
  });
  // Secrets are secret variables (there is no `secrets` context in the message); the job token
  // is `system.github.token` and the `github_token` secret.
  for (const [name, value] of Object.entries(job.secrets)) variables[name] = { value, isSecret: true };
  variables["system.github.token"] = { value: jobToken, isSecret: true };
  variables.github_token = { value: jobToken, isSecret: true };
  const secretValues = [jobToken, ...Object.values(job.secrets)].filter((v) => v !== "");
  const message: Record<string, unknown> = {
    messageType: "RunnerJobRequest",
    plan: {
      scopeIdentifier: "00000000-0000-0000-0000-000000000000",
      planType: "actions",
      version: 0,
      planId: job.planId,
      planGroup: null,
      artifactUri: null,
      artifactLocation: null,
      definition: { id: 0, name: job.workflowName },
      owner: { id: 0, name: job.workflowName },
    },
    timeline: { id: job.planId, changeId: 1, location: null },
    jobId: job.jobId,
    jobDisplayName: job.displayName,
    jobName: "__default",
    requestId: 0,
    lockedUntil: "0001-01-01T00:00:00",
    resources: {
      endpoints: [
        {
          name: "SystemVssConnection",
          url: urls.runService,
          authorization: { scheme: "OAuth", parameters: { AccessToken: jobToken } },
          data: {
            ServerId: job.planId,
            ServerName: "GitHub",
            FeedStreamUrl: `${urls.feed}/${job.jobId}`,
            ResultsServiceUrl: urls.results,
            PipelinesServiceUrl: urls.tenant,
          },
          isShared: false,
          isReady: true,
        },
      ],
    },
    contextData: job.contextData,
    workspace: {},
    mask: [...new Set(secretValues)].map((value) => ({ type: "regex", value: literalRegex(value) })),
    steps: job.steps,
    variables,
    fileTable: [job.workflowFile],
    billingOwnerId: job.billingOwnerId,
  };
  if (job.environmentVariables.length > 0) message.environmentVariables = job.environmentVariables;
  if (job.defaults.length > 0) message.defaults = job.defaults;
  if (job.jobOutputs !== undefined) message.jobOutputs = job.jobOutputs;
  if (job.jobContainer !== undefined) message.jobContainer = job.jobContainer;
  if (job.jobServiceContainers !== undefined) message.jobServiceContainers = job.jobServiceContainers;
  return message;
}
