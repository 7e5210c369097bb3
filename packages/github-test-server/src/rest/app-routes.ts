import { bearerToken } from "../auth/authorization-header.ts";
import { checkAppJwt } from "../auth/jwt-verify.ts";
import { sendJson } from "../http/http-io.ts";
import type { Route, RouteContext } from "../http/router.ts";
import type { ServerContext } from "../server-context.ts";
import type { InstallationRecord } from "./credential-store.ts";
import { restError } from "./rest-routes.ts";

// GitHub App authentication: an App JWT (RS256, signed with the App's private key, `iss` = App
// id, at most 10 minutes long) finds the installation on a repository's or organisation's
// owner, and buys an installation access token, which the REST API then takes like a PAT.

const API = "^(?:/api/v3)?";

/** The permissions an installation of the test App has. */
const PERMISSIONS = { administration: "write", organization_self_hosted_runners: "write", metadata: "read" };

/** The App routes. */
export function appRoutes(context: ServerContext): Route[] {
  const requireApp = (ctx: RouteContext): void => {
    const app = context.settings.app;
    const token = bearerToken(ctx.req.headers.authorization);
    if (app === undefined || token === undefined) {
      throw restError(401, "A JSON web token could not be decoded");
    }
    const check = checkAppJwt(token, app.appId, app.publicKey, Date.now());
    if (!check.ok) throw restError(401, check.message);
  };

  const installationJson = (installation: InstallationRecord): Record<string, unknown> => {
    return {
      id: installation.id,
      app_id: Number(context.settings.app?.appId ?? 0),
      target_type: "Organization",
      account: {
        login: installation.account,
        id: context.repositories.ownerIdOf(installation.account) ?? 0,
        type: "Organization",
      },
      repository_selection: "all",
      permissions: PERMISSIONS,
      access_tokens_url: `${context.urls.api}/app/installations/${installation.id}/access_tokens`,
    };
  };

  const installationOf = (owner: string): InstallationRecord => {
    const installation = context.credentials.installationFor(owner);
    if (installation === undefined) throw restError(404, "Not Found");
    return installation;
  };

  return [
    {
      method: "GET",
      pattern: new RegExp(`${API}/repos/(?<owner>[^/]+)/(?<repo>[^/]+)/installation$`),
      endpoint: "get-installation",
      handler: (ctx) => {
        requireApp(ctx);
        if (context.repositories.get(`${ctx.params.owner}/${ctx.params.repo}`) === undefined)
          throw restError(404, "Not Found");
        sendJson(ctx.res, 200, installationJson(installationOf(ctx.params.owner ?? "")));
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`${API}/orgs/(?<org>[^/]+)/installation$`),
      endpoint: "get-installation",
      handler: (ctx) => {
        requireApp(ctx);
        sendJson(ctx.res, 200, installationJson(installationOf(ctx.params.org ?? "")));
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`${API}/app/installations/(?<id>\\d+)/access_tokens$`),
      endpoint: "installation-token",
      handler: (ctx) => {
        requireApp(ctx);
        const installation = context.credentials.installation(Number(ctx.params.id));
        if (installation === undefined) throw restError(404, "Not Found");
        const { token, expiresAt } = context.credentials.createInstallationToken(
          installation,
          context.settings.installationTokenLifetimeMs,
        );
        sendJson(ctx.res, 201, {
          token,
          expires_at: expiresAt.toISOString(),
          permissions: PERMISSIONS,
          repository_selection: "all",
        });
      },
    },
  ];
}
