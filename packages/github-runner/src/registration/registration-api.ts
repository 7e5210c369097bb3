import type { KeyObject } from "node:crypto";
import { z } from "zod";
import { GitHubResponseError, RunnerGroupNotFoundError } from "../errors.ts";
import type { RunnerConfiguration } from "../settings/runner-files.ts";
import type { RunnerSettings } from "../settings/runner-settings.ts";
import type { GitHubTarget } from "./github-urls.ts";
import { labelObjects } from "./runner-labels.ts";

// The registration API's bodies (v2 "runner admin" flow), as the reference runner sends and
// reads them (ConfigurationManager, RunnerDotcomServer), and the pure steps between them.

/** `runner_event` of POST actions/runner-registration. */
export type RunnerEvent = "register" | "remove";

/** Body of POST actions/runner-registration. */
export function runnerRegistrationBody(
  target: GitHubTarget,
  event: RunnerEvent,
): { url: string; runner_event: RunnerEvent } {
  return { url: target.url, runner_event: event };
}

/** Answer of POST actions/runner-registration (GitHubAuthResult). */
export const RunnerRegistrationResponseSchema = z.object({
  /** The tenant (pipelines) URL: `.runner` serverUrl. */
  url: z.string().min(1),
  token_schema: z.string().optional(),
  token: z.string().optional(),
  /** True: the runner-admin (v2) flow; false: the legacy pools/agents flow. */
  use_v2_flow: z.boolean().default(false),
});
/** @see RunnerRegistrationResponseSchema */
export type RunnerRegistrationResponse = z.infer<typeof RunnerRegistrationResponseSchema>;

/** One runner group. */
export const RunnerGroupSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  default: z.boolean().default(false),
  is_hosted: z.boolean().default(false),
});
/** GET {scope}/actions/runner-groups. */
export const RunnerGroupListSchema = z.object({
  total_count: z.number().int().optional(),
  runner_groups: z.array(RunnerGroupSchema).default([]),
});
/** @see RunnerGroupSchema */
export type RunnerGroup = z.infer<typeof RunnerGroupSchema>;

/** GET {scope}/actions/runners?name=. */
export const RunnerListSchema = z.object({
  total_count: z.number().int().optional(),
  runners: z.array(z.object({ id: z.number().int(), name: z.string() }).passthrough()).default([]),
});

/** The runner object POST actions/runners/register answers: its credentials are under `authorization`. */
export const RegisteredRunnerSchema = z.object({
  id: z.number().int().nonnegative(),
  name: z.string(),
  authorization: z.object({
    /** The broker URL (`.runner` serverUrlV2). */
    server_url: z.string().min(1),
    authorization_url: z.string().url(),
    client_id: z.string().min(1),
    legacy_authorization_url: z.string().nullish(),
  }),
});
/** @see RegisteredRunnerSchema */
export type RegisteredRunner = z.infer<typeof RegisteredRunnerSchema>;

/** POST {scope}/actions/runners/registration-token (or remove-token). */
export const RunnerTokenSchema = z.object({ token: z.string().min(1), expires_at: z.string().optional() });

/** POST {scope}/actions/runners/generate-jitconfig. */
export const JitConfigResponseSchema = z.object({
  runner: z.object({ id: z.number().int(), name: z.string() }).passthrough(),
  encoded_jit_config: z.string().min(1),
});
/** @see JitConfigResponseSchema */
export type JitConfigResponse = z.infer<typeof JitConfigResponseSchema>;

/** Body of generate-jitconfig. */
export interface JitConfigRequest {
  readonly name: string;
  readonly runner_group_id: number;
  readonly labels: readonly string[];
  readonly work_folder: string;
}

/** Parses a body with `schema` or throws `GitHubResponseError` naming `what` and the field. */
export function parseGitHubBody<S extends z.ZodType>(schema: S, what: string, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.join(".") ?? "";
  throw new GitHubResponseError(what, `${path === "" ? "" : `${path}: `}${issue?.message ?? "invalid"}`);
}

/**
 * The group to register into, as the reference runner chooses: the one named (case-insensitive,
 * self-hosted), else the default group. Throws `RunnerGroupNotFoundError`.
 */
export function chooseRunnerGroup(groups: readonly RunnerGroup[], name?: string): RunnerGroup {
  const selfHosted = groups.filter((g) => !g.is_hosted);
  const wanted = name ?? groups.find((g) => g.default)?.name;
  const found =
    wanted === undefined ? undefined : selfHosted.find((g) => g.name.toLowerCase() === wanted.toLowerCase());
  if (found === undefined) throw new RunnerGroupNotFoundError(name);
  return found;
}

/** What the register body says about the runner. */
export interface RegisterRunnerFields {
  readonly groupId: number;
  readonly name: string;
  readonly version: string;
  readonly labels: readonly string[];
  readonly noDefaultLabels?: boolean;
  readonly ephemeral: boolean;
  readonly disableUpdate: boolean;
  readonly publicKeyXml: string;
  /** Replace this existing runner (its id). */
  readonly replaceRunnerId?: number;
}

/** Body of POST actions/runners/register. */
export function registerRunnerBody(
  target: GitHubTarget,
  fields: RegisterRunnerFields,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    url: target.url,
    group_id: fields.groupId,
    name: fields.name,
    version: fields.version,
    updates_disabled: fields.disableUpdate,
    ephemeral: fields.ephemeral,
    labels: labelObjects(fields.labels, fields.noDefaultLabels),
    public_key: fields.publicKeyXml,
  };
  if (fields.replaceRunnerId !== undefined) {
    body["runner_id"] = fields.replaceRunnerId;
    body["replace"] = true;
  }
  return body;
}

/** What {@link configurationFromRegistration} combines. */
export interface RegistrationOutcome {
  readonly target: GitHubTarget;
  readonly tenant: RunnerRegistrationResponse;
  readonly group: RunnerGroup;
  readonly runner: RegisteredRunner;
  readonly key: KeyObject;
  readonly ephemeral: boolean;
  readonly disableUpdate: boolean;
  readonly workFolder: string;
}

/**
 * The files to write after a v2 registration, as the reference runner writes them: a
 * `legacy_authorization_url` becomes `authorizationUrl` with the new one as
 * `authorizationUrlV2` (auth migration), and `requireFipsCryptography` is true (PS256).
 */
export function configurationFromRegistration(outcome: RegistrationOutcome): RunnerConfiguration {
  const auth = outcome.runner.authorization;
  const legacy = auth.legacy_authorization_url ?? undefined;
  const settings: RunnerSettings = {
    agentId: outcome.runner.id,
    agentName: outcome.runner.name,
    poolId: outcome.group.id,
    poolName: outcome.group.name,
    serverUrl: outcome.tenant.url,
    serverUrlV2: auth.server_url,
    gitHubUrl: outcome.target.url,
    workFolder: outcome.workFolder,
    useV2Flow: true,
    useRunnerAdminFlow: true,
    ephemeral: outcome.ephemeral,
    disableUpdate: outcome.disableUpdate,
    isHostedServer: outcome.target.hosted,
  };
  if (legacy === undefined || legacy === "") {
    return {
      settings,
      credentials: {
        scheme: "OAuth",
        data: {
          clientId: auth.client_id,
          authorizationUrl: auth.authorization_url,
          requireFipsCryptography: true,
        },
      },
      key: outcome.key,
    };
  }
  return {
    settings,
    credentials: {
      scheme: "OAuth",
      data: {
        clientId: auth.client_id,
        authorizationUrl: legacy,
        authorizationUrlV2: auth.authorization_url,
        enableAuthMigrationByDefault: true,
        requireFipsCryptography: true,
      },
    },
    key: outcome.key,
  };
}
