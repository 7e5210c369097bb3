import { createPublicKey, type KeyObject } from "node:crypto";
import { z } from "zod";
import { bearerToken } from "../auth/authorization-header.ts";
import { parseJsonBody, readBody, sendEmpty, sendJson } from "../http/http-io.ts";
import type { Route, RouteContext } from "../http/router.ts";
import type { RunnerTokenRecord } from "../rest/credential-store.ts";
import { deleteRunner } from "../runners/runner-lifecycle.ts";
import type { ServerContext } from "../server-context.ts";
import { LEGACY_POOL, taskAgentJson } from "./agent-json.ts";
import { invalidVssBody, vssError } from "./vss-error.ts";

// The legacy registration resources under the tenant URL, as the reference runner's
// ConfigurationManager calls them when runner-registration answers `use_v2_flow: false`:
// GET distributedtask/pools, GET pools/{poolId}/agents?agentName=, POST (add) or PUT (replace)
// the agent with its RSA public key as `{exponent, modulus}`, DELETE it on removal. They take the
// tenant token of runner-registration as a Bearer token (GET pools also the runner's own token:
// the runner's connection test after registering).

const AgentBody = z.looseObject({
  name: z.string().min(1).max(64),
  version: z.string().optional(),
  osDescription: z.string().nullish(),
  maxParallelism: z.number().int().optional(),
  ephemeral: z.boolean().nullish(),
  disableUpdate: z.boolean().nullish(),
  labels: z
    .array(z.looseObject({ name: z.string().min(1), type: z.enum(["system", "user"]) }))
    .max(100)
    .default([]),
  authorization: z.looseObject({
    publicKey: z.object({ exponent: z.string().min(1), modulus: z.string().min(1) }),
  }),
});

function publicKeyOf(key: { exponent: string; modulus: string }): KeyObject {
  const n = Buffer.from(key.modulus, "base64");
  const e = Buffer.from(key.exponent, "base64");
  if (n.length < 128)
    throw invalidVssBody("authorization.publicKey.modulus: a 1024-bit or larger key is needed");
  try {
    return createPublicKey({
      key: { kty: "RSA", n: n.toString("base64url"), e: e.toString("base64url") },
      format: "jwk",
    });
  } catch {
    throw invalidVssBody("authorization.publicKey is not an RSA public key");
  }
}

/** The legacy pools and agents routes. */
export function legacyAgentRoutes(context: ServerContext): Route[] {
  const base = `^${new URL(context.urls.tenant).pathname}_apis/distributedtask/pools`;
  const { credentials, runners, urls } = context;

  const tenantToken = (ctx: RouteContext, kind?: "registration" | "remove"): RunnerTokenRecord => {
    const record = credentials.tenantToken(bearerToken(ctx.req.headers.authorization));
    if (record === undefined)
      throw vssError(
        401,
        "UnauthorizedRequestException",
        "a tenant token from runner-registration is needed",
      );
    if (kind !== undefined && record.kind !== kind)
      throw vssError(403, "AccessDeniedException", `this call needs the tenant token of a ${kind} token`);
    return record;
  };

  const pool = (ctx: RouteContext): void => {
    if (Number(ctx.params.poolId) !== LEGACY_POOL.id)
      throw vssError(404, "TaskAgentPoolNotFoundException", `agent pool ${ctx.params.poolId} not found`);
  };

  const busy = (id: number): boolean => context.jobs.activeJobOf(id) !== undefined;

  const parseAgent = async (ctx: RouteContext) => {
    const body = parseJsonBody((await readBody(ctx.req)).toString("utf8"), AgentBody, invalidVssBody);
    return {
      body,
      publicKey: publicKeyOf(body.authorization.publicKey),
      labels: body.labels.map((l) => ({ name: l.name, type: l.type })),
    };
  };

  return [
    {
      method: "GET",
      pattern: new RegExp(`${base}$`),
      endpoint: "legacy-pools",
      handler: (ctx) => {
        const token = bearerToken(ctx.req.headers.authorization);
        if (credentials.tenantToken(token) === undefined && !context.tokens.check(token).ok)
          throw vssError(401, "UnauthorizedRequestException", "a tenant or runner token is needed");
        const name = ctx.url.searchParams.get("poolName");
        const pools =
          name === null || name.toLowerCase() === LEGACY_POOL.name.toLowerCase() ? [LEGACY_POOL] : [];
        sendJson(ctx.res, 200, { count: pools.length, value: pools });
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`${base}/(?<poolId>\\d+)/agents$`),
      endpoint: "legacy-list-agents",
      handler: (ctx) => {
        const token = tenantToken(ctx);
        pool(ctx);
        const name = ctx.url.searchParams.get("agentName");
        const found = runners
          .inScope(token.scope)
          .filter((r) => name === null || r.name.toLowerCase() === name.toLowerCase());
        sendJson(ctx.res, 200, {
          count: found.length,
          value: found.map((r) => taskAgentJson(r, busy(r.id), urls, false)),
        });
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`${base}/(?<poolId>\\d+)/agents$`),
      endpoint: "legacy-add-agent",
      handler: async (ctx) => {
        const token = tenantToken(ctx, "registration");
        pool(ctx);
        const { body, publicKey, labels } = await parseAgent(ctx);
        if (runners.byName(token.scope, body.name) !== undefined) {
          throw vssError(
            409,
            "TaskAgentExistsException",
            `an agent named ${body.name} already exists in pool ${LEGACY_POOL.id}`,
          );
        }
        const runner = runners.add({
          name: body.name,
          scope: token.scope,
          groupId: LEGACY_POOL.id,
          labels,
          version: body.version ?? "",
          ephemeral: body.ephemeral ?? false,
          disableUpdate: body.disableUpdate ?? false,
          jit: false,
          publicKey,
        });
        sendJson(ctx.res, 200, taskAgentJson(runner, false, urls, true));
      },
    },
    {
      method: "PUT",
      pattern: new RegExp(`${base}/(?<poolId>\\d+)/agents/(?<agentId>\\d+)$`),
      endpoint: "legacy-replace-agent",
      handler: async (ctx) => {
        const token = tenantToken(ctx, "registration");
        pool(ctx);
        const { body, publicKey, labels } = await parseAgent(ctx);
        const existing = runners.get(Number(ctx.params.agentId));
        if (existing === undefined || existing.scope !== token.scope)
          throw vssError(404, "TaskAgentNotFoundException", `agent ${ctx.params.agentId} not found`);
        // Replace: the same id and OAuth client, a new key; the old sessions end.
        existing.publicKey = publicKey;
        existing.labels = labels;
        existing.version = body.version ?? existing.version;
        existing.ephemeral = body.ephemeral ?? false;
        existing.disableUpdate = body.disableUpdate ?? false;
        existing.replacements++;
        context.sessions.deleteForRunner(existing.id);
        sendJson(ctx.res, 200, taskAgentJson(existing, busy(existing.id), urls, true));
      },
    },
    {
      method: "DELETE",
      pattern: new RegExp(`${base}/(?<poolId>\\d+)/agents/(?<agentId>\\d+)$`),
      endpoint: "legacy-delete-agent",
      handler: (ctx) => {
        const token = tenantToken(ctx, "remove");
        pool(ctx);
        const runner = runners.get(Number(ctx.params.agentId));
        if (runner === undefined || runner.scope !== token.scope)
          throw vssError(404, "TaskAgentNotFoundException", `agent ${ctx.params.agentId} not found`);
        deleteRunner(context, runner.id);
        sendEmpty(ctx.res, 204);
      },
    },
  ];
}
