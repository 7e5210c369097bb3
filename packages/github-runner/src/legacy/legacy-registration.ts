import { release as osRelease, type as osType } from "node:os";
import { generateRunnerKey } from "../auth/rsa-key.ts";
import { GitHubResponseError, RunnerExistsError } from "../errors.ts";
import { type FetchFunction, httpCall } from "../http/http-call.ts";
import type { GitHubTarget } from "../registration/github-urls.ts";
import { parseGitHubBody, type RunnerRegistrationResponse } from "../registration/registration-api.ts";
import type { RunnerConfiguration } from "../settings/runner-files.ts";
import { RUNNER_PROTOCOL_VERSION } from "../version.ts";
import {
  chooseLegacyPool,
  collectionSchema,
  configurationFromLegacyAgent,
  legacyAgentBody,
  TaskAgentPoolSchema,
  TaskAgentSchema,
} from "./legacy-api.ts";
import { acceptHeader, agentsUrl, LegacyApiVersions, poolsUrl } from "./legacy-urls.ts";

// Registration and removal in the legacy flow (GHES answering runner-registration with
// `use_v2_flow: false`), as the reference runner's ConfigurationManager: with the tenant token
// of runner-registration (a Bearer token at the tenant URL), GET the pools and pick one, look
// for an agent of the same name (replace it with PUT, or refuse), else POST a new agent with the
// public key as `{exponent, modulus}`; the answer's `authorization` is the OAuth client.

/** One tenant call, as `remoteAuthCall` of register-runner.ts sends it (retries are the caller's). */
export type TenantCall = <T>(
  what: string,
  call: () => Promise<{ status: number; text: string; url: string }>,
  parse: (json: unknown) => T,
) => Promise<T>;

function tenantRequest(
  token: string,
  fetchFn: FetchFunction | undefined,
  method: "GET" | "POST" | "PUT" | "DELETE",
  url: string,
  apiVersion: string,
  body?: object,
) {
  return async () => {
    const answer = await httpCall(
      {
        method,
        url,
        headers: { authorization: `Bearer ${token}`, accept: acceptHeader(apiVersion) },
        ...(body === undefined ? {} : { body }),
      },
      fetchFn,
    );
    return { status: answer.status, text: answer.text, url };
  };
}

/** What a legacy registration needs beyond the tenant. */
export interface LegacyRegisterInput {
  readonly target: GitHubTarget;
  readonly tenant: RunnerRegistrationResponse;
  readonly name: string;
  readonly labels: readonly string[];
  readonly noDefaultLabels?: boolean;
  readonly runnerGroup?: string;
  readonly ephemeral: boolean;
  readonly replace: boolean;
  readonly workFolder: string;
  readonly call: TenantCall;
  readonly fetch?: FetchFunction;
}

function tenantToken(tenant: RunnerRegistrationResponse): string {
  if (tenant.token === undefined || tenant.token === "")
    throw new GitHubResponseError("runner-registration", "token: the legacy flow needs the tenant token");
  return tenant.token;
}

/** Registers through pools and agents; returns the configuration to write. */
export async function registerLegacyRunner(input: LegacyRegisterInput): Promise<RunnerConfiguration> {
  const { tenant, call } = input;
  const token = tenantToken(tenant);
  const f = input.fetch;
  const key = generateRunnerKey();
  const pools = await call(
    "agent pools",
    tenantRequest(token, f, "GET", poolsUrl(tenant.url), LegacyApiVersions.pools),
    (json) => parseGitHubBody(collectionSchema(TaskAgentPoolSchema), "agent pools", json),
  );
  const pool = chooseLegacyPool(pools.value, input.runnerGroup);
  const existing = await call(
    "agents",
    tenantRequest(
      token,
      f,
      "GET",
      agentsUrl(tenant.url, pool.id, undefined, input.name),
      LegacyApiVersions.agents,
    ),
    (json) => parseGitHubBody(collectionSchema(TaskAgentSchema), "agents", json),
  );
  const same = existing.value.find((a) => a.name.toLowerCase() === input.name.toLowerCase());
  if (same !== undefined && !input.replace) throw new RunnerExistsError(input.name);
  const fields = {
    name: input.name,
    version: RUNNER_PROTOCOL_VERSION,
    osDescription: `${osType()} ${osRelease()}`,
    labels: input.labels,
    ...(input.noDefaultLabels === undefined ? {} : { noDefaultLabels: input.noDefaultLabels }),
    ephemeral: input.ephemeral,
    disableUpdate: true,
    key,
  };
  const agent =
    same === undefined
      ? await call(
          "add agent",
          tenantRequest(
            token,
            f,
            "POST",
            agentsUrl(tenant.url, pool.id),
            LegacyApiVersions.agents,
            legacyAgentBody(fields),
          ),
          (json) => parseGitHubBody(TaskAgentSchema, "add agent", json),
        )
      : await call(
          "replace agent",
          tenantRequest(
            token,
            f,
            "PUT",
            agentsUrl(tenant.url, pool.id, same.id),
            LegacyApiVersions.agents,
            legacyAgentBody(fields, same.id),
          ),
          (json) => parseGitHubBody(TaskAgentSchema, "replace agent", json),
        );
  const configuration = configurationFromLegacyAgent({
    target: input.target,
    tenant,
    pool,
    agent,
    key,
    ephemeral: input.ephemeral,
    disableUpdate: true,
    workFolder: input.workFolder,
  });
  if (configuration === undefined)
    throw new GitHubResponseError("add agent", "authorization: the server gave the agent no OAuth client");
  return configuration;
}

/** Removes the agent named `agentName` from `poolId` with the tenant of a remove token; a missing agent is success. */
export async function removeLegacyRunner(input: {
  readonly tenant: RunnerRegistrationResponse;
  readonly poolId: number;
  readonly agentName: string;
  readonly call: TenantCall;
  readonly fetch?: FetchFunction;
}): Promise<void> {
  const { tenant, call } = input;
  const token = tenantToken(tenant);
  const agents = await call(
    "agents",
    tenantRequest(
      token,
      input.fetch,
      "GET",
      agentsUrl(tenant.url, input.poolId, undefined, input.agentName),
      LegacyApiVersions.agents,
    ),
    (json) => parseGitHubBody(collectionSchema(TaskAgentSchema), "agents", json),
  );
  const agent = agents.value.find((a) => a.name.toLowerCase() === input.agentName.toLowerCase());
  if (agent === undefined) return;
  await call(
    "delete agent",
    tenantRequest(
      token,
      input.fetch,
      "DELETE",
      agentsUrl(tenant.url, input.poolId, agent.id),
      LegacyApiVersions.agents,
    ),
    () => undefined,
  );
}
