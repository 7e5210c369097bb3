import { generateKeyPairSync } from "node:crypto";
import { z } from "zod";
import { apiToken, parseAuthorization } from "../auth/authorization-header.ts";
import { publicKeyFromXml } from "../auth/rsa-key-xml.ts";
import { HttpError, parseJsonBody, readBody, sendEmpty, sendJson } from "../http/http-io.ts";
import type { Route, RouteContext } from "../http/router.ts";
import { deleteRunner } from "../runners/runner-lifecycle.ts";
import type { RunnerEntry } from "../runners/runner-registry.ts";
import type { ServerContext } from "../server-context.ts";
import { type ApiPrincipal, principalCovers, type RunnerTokenRecord, randomHex } from "./credential-store.ts";
import {
  ENTITY_PATH,
  gitHubUrlOf,
  knownScope,
  sameScope,
  scopeFromGitHubUrl,
  scopeFromParams,
} from "./entity.ts";
import { encodeJitConfig, jitConfigFiles } from "./jit-config.ts";
import { DEFAULT_RUNNER_GROUP, registeredRunnerJson, runnerJson } from "./runner-json.ts";

// GitHub's REST API for self-hosted runners, as the runner's configuration calls it: tokens from
// a PAT or installation token, then the runner-admin ("v2") registration with `RemoteAuth`
// registration tokens, JIT configurations, and removal. Served at `/` (github.com's
// api.github.com) and `/api/v3` (GHES).

const API = "^(?:/api/v3)?";

/** GitHub's REST error body. */
export function restError(status: number, message: string): HttpError {
  return new HttpError(status, { message, documentation_url: "https://docs.github.com/rest" });
}

const invalidBody = (problem: string): HttpError =>
  new HttpError(422, {
    message: `Validation Failed: ${problem}`,
    documentation_url: "https://docs.github.com/rest",
  });

const RunnerRegistrationBody = z.object({
  url: z.string().min(1),
  runner_event: z.enum(["register", "remove"]),
});

const RegisterBody = z.object({
  url: z.string().min(1),
  group_id: z.number().int(),
  name: z.string().min(1).max(64),
  version: z.string(),
  updates_disabled: z.boolean(),
  ephemeral: z.boolean(),
  // The runner serializes AgentLabel with camelCase names and enums: {id, name, type: "system"|"user"}.
  labels: z.array(
    z.object({ name: z.string().min(1), type: z.enum(["system", "user"]), id: z.number().optional() }),
  ),
  public_key: z.string().min(1),
  runner_id: z.number().int().optional(),
  replace: z.boolean().optional(),
});

const JitConfigBody = z.object({
  name: z.string().min(1).max(64),
  runner_group_id: z.number().int(),
  labels: z.array(z.string().min(1)).min(1).max(100),
  work_folder: z.string().min(1).optional(),
});

/** The REST routes. */
export function restRoutes(context: ServerContext): Route[] {
  const { credentials, runners, repositories, settings, urls } = context;

  /** The scope of the route, which must exist. */
  const entityOf = (params: Readonly<Record<string, string>>): string => {
    const scope = knownScope(scopeFromParams(params), repositories);
    if (scope === undefined) throw restError(404, "Not Found");
    return scope;
  };

  /** The PAT or installation token of the request, which must cover `scope`. */
  const principalFor = (ctx: RouteContext, scope: string): ApiPrincipal => {
    const principal = credentials.principalOf(apiToken(ctx.req.headers.authorization));
    if (principal === undefined) throw restError(401, "Bad credentials");
    if (!principalCovers(principal, scope)) throw restError(403, "Resource not accessible by integration");
    return principal;
  };

  /** The `RemoteAuth` runner token of the request, of `kind`, for `scope`. */
  const runnerTokenFor = (
    ctx: RouteContext,
    scope: string | undefined,
    kind?: "registration" | "remove",
  ): RunnerTokenRecord => {
    const credentialsSent = parseAuthorization(ctx.req.headers.authorization);
    const record =
      credentialsSent?.scheme === "remoteauth" ? credentials.runnerToken(credentialsSent.value) : undefined;
    if (record === undefined) throw restError(401, "Bad credentials");
    if (kind !== undefined && record.kind !== kind)
      throw restError(403, `a ${kind} token is needed for this call`);
    if (scope !== undefined && !sameScope(record.scope, scope))
      throw restError(403, "the token is for another repository or organization");
    return record;
  };

  /** A PAT/installation token or a RemoteAuth registration token for `scope`. */
  const readerFor = (ctx: RouteContext, scope: string): void => {
    if (parseAuthorization(ctx.req.headers.authorization)?.scheme === "remoteauth")
      runnerTokenFor(ctx, scope);
    else principalFor(ctx, scope);
  };

  const busy = (runner: RunnerEntry): boolean => context.jobs.activeJobOf(runner.id) !== undefined;

  const runnerToken = (kind: "registration" | "remove") => async (ctx: RouteContext) => {
    const scope = entityOf(ctx.params);
    principalFor(ctx, scope);
    const record = credentials.createRunnerToken(kind, scope, settings.runnerTokenLifetimeMs);
    sendJson(ctx.res, 201, { token: record.token, expires_at: record.expiresAt.toISOString() });
  };

  return [
    {
      method: "POST",
      pattern: new RegExp(`${API}/${ENTITY_PATH}/actions/runners/registration-token$`),
      endpoint: "registration-token",
      handler: runnerToken("registration"),
    },
    {
      method: "POST",
      pattern: new RegExp(`${API}/${ENTITY_PATH}/actions/runners/remove-token$`),
      endpoint: "remove-token",
      handler: runnerToken("remove"),
    },
    {
      method: "POST",
      pattern: new RegExp(`${API}/actions/runner-registration$`),
      endpoint: "runner-registration",
      handler: async (ctx) => {
        const token = runnerTokenFor(ctx, undefined);
        const body = parseJsonBody(
          (await readBody(ctx.req)).toString("utf8"),
          RunnerRegistrationBody,
          invalidBody,
        );
        const wanted = body.runner_event === "register" ? "registration" : "remove";
        if (token.kind !== wanted)
          throw restError(403, `runner_event ${body.runner_event} needs a ${wanted} token`);
        const scope = scopeFromGitHubUrl(body.url);
        if (scope === undefined || !sameScope(scope, token.scope)) throw restError(404, "Not Found");
        // Legacy (GHES without the runner-admin flow): the token opens the tenant's pools and agents.
        sendJson(ctx.res, 200, {
          url: urls.tenant,
          token_schema: "OAuthAccessToken",
          token: settings.useV2Flow ? randomHex(20) : credentials.createTenantToken(token),
          use_v2_flow: settings.useV2Flow,
        });
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`${API}/${ENTITY_PATH}/actions/runner-groups$`),
      endpoint: "runner-groups",
      handler: (ctx) => {
        const scope = entityOf(ctx.params);
        readerFor(ctx, scope);
        sendJson(ctx.res, 200, { total_count: 1, runner_groups: [DEFAULT_RUNNER_GROUP] });
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`${API}/${ENTITY_PATH}/actions/runners$`),
      endpoint: "list-runners",
      handler: (ctx) => {
        const scope = entityOf(ctx.params);
        readerFor(ctx, scope);
        const name = ctx.url.searchParams.get("name");
        const list = runners
          .inScope(scope)
          .filter((r) => name === null || r.name.toLowerCase() === name.toLowerCase());
        sendJson(ctx.res, 200, {
          total_count: list.length,
          runners: list.map((r) => runnerJson(r, busy(r))),
        });
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`${API}/actions/runners/register$`),
      endpoint: "register-runner",
      handler: async (ctx) => {
        const token = runnerTokenFor(ctx, undefined, "registration");
        const body = parseJsonBody((await readBody(ctx.req)).toString("utf8"), RegisterBody, invalidBody);
        const scope = scopeFromGitHubUrl(body.url);
        if (scope === undefined || !sameScope(scope, token.scope)) throw restError(404, "Not Found");
        if (body.group_id !== DEFAULT_RUNNER_GROUP.id)
          throw restError(404, `runner group ${body.group_id} not found`);
        const publicKey = publicKeyFromXml(body.public_key);
        if (publicKey === undefined)
          throw invalidBody("public_key is not an <RSAKeyValue> of a 1024-bit or larger key");
        const labels = body.labels.map((l) => ({ name: l.name, type: l.type }));
        const existing = runners.byName(token.scope, body.name);
        if (existing !== undefined) {
          if (body.replace !== true || body.runner_id !== existing.id) {
            throw restError(409, `Already exists - A runner with the name ${body.name} already exists.`);
          }
          // Replace: the same id, a new key; the old sessions end.
          existing.publicKey = publicKey;
          existing.labels = labels;
          existing.version = body.version;
          existing.ephemeral = body.ephemeral;
          existing.disableUpdate = body.updates_disabled;
          existing.replacements++;
          context.sessions.deleteForRunner(existing.id);
          sendJson(ctx.res, 200, registeredRunnerJson(existing, urls));
          return;
        }
        const runner = runners.add({
          name: body.name,
          scope: token.scope,
          groupId: body.group_id,
          labels,
          version: body.version,
          ephemeral: body.ephemeral,
          disableUpdate: body.updates_disabled,
          jit: false,
          publicKey,
        });
        sendJson(ctx.res, 201, registeredRunnerJson(runner, urls));
      },
    },
    {
      method: "DELETE",
      pattern: new RegExp(`${API}/${ENTITY_PATH}/actions/runners/(?<id>\\d+)$`),
      endpoint: "delete-runner",
      handler: (ctx) => {
        const scope = entityOf(ctx.params);
        // The runner's `remove` sends `RemoteAuth <remove token>`; the REST API takes a PAT.
        if (parseAuthorization(ctx.req.headers.authorization)?.scheme === "remoteauth")
          runnerTokenFor(ctx, scope, "remove");
        else principalFor(ctx, scope);
        const runner = runners.get(Number(ctx.params.id));
        if (runner === undefined || !sameScope(runner.scope, scope)) throw restError(404, "Not Found");
        deleteRunner(context, runner.id);
        sendEmpty(ctx.res, 204);
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`${API}/${ENTITY_PATH}/actions/runners/generate-jitconfig$`),
      endpoint: "generate-jitconfig",
      handler: async (ctx) => {
        const scope = entityOf(ctx.params);
        principalFor(ctx, scope);
        const body = parseJsonBody((await readBody(ctx.req)).toString("utf8"), JitConfigBody, invalidBody);
        if (body.runner_group_id !== DEFAULT_RUNNER_GROUP.id) {
          throw restError(404, `runner group ${body.runner_group_id} not found`);
        }
        if (runners.byName(scope, body.name) !== undefined) {
          throw restError(409, `Already exists - A runner with the name ${body.name} already exists.`);
        }
        // The server makes the key pair and keeps the public half, as GitHub does.
        const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        const runner = runners.add({
          name: body.name,
          scope,
          groupId: body.runner_group_id,
          labels: body.labels.map((name) => ({ name, type: "user" as const })),
          version: "",
          ephemeral: true,
          disableUpdate: true,
          jit: true,
          publicKey,
        });
        const files = jitConfigFiles({
          runner,
          privateKey,
          gitHubUrl: gitHubUrlOf(urls.base, scope),
          workFolder: body.work_folder ?? "_work",
          urls,
        });
        sendJson(ctx.res, 201, {
          runner: runnerJson(runner, false),
          encoded_jit_config: encodeJitConfig(files),
        });
      },
    },
  ];
}
