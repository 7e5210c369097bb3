import { checkClientAssertion, type OAuthErrorCode } from "../auth/jwt-verify.ts";
import { HttpError, readBody, sendJson } from "../http/http-io.ts";
import type { Route } from "../http/router.ts";
import type { ServerContext } from "../server-context.ts";

// The runner's OAuth token endpoint (its `authorization_url`): a client-credentials grant with a
// JWT client assertion signed by the runner's key (RFC 7523) buys an access token for the broker
// and the run service. Errors are OAuth's: 400 with `{error, error_description}`; the runner
// reads `invalid_client` as "the registration was deleted".

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

function oauthError(error: OAuthErrorCode, description: string): HttpError {
  return new HttpError(400, { error, error_description: description }, { "cache-control": "no-store" });
}

/** Remembers used assertion ids until the assertion would have expired anyway. */
class JtiMemory {
  readonly #seen = new Map<string, number>();

  has(jti: string, now: number): boolean {
    for (const [id, until] of this.#seen) if (until < now) this.#seen.delete(id);
    return this.#seen.has(jti);
  }

  add(jti: string, until: number): void {
    this.#seen.set(jti, until);
  }
}

/** The runner's issued access tokens, for inspection. */
export interface AccessTokenGrant {
  readonly runnerId: number;
  readonly algorithm: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
}

/** The token endpoint's route; `grants` records each token handed out. */
export function oauthRoutes(context: ServerContext, grants: AccessTokenGrant[]): Route[] {
  const jtis = new JtiMemory();
  const path = new URL(context.urls.oauth).pathname;
  return [
    {
      method: "POST",
      pattern: new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`),
      endpoint: "oauth-token",
      handler: async (ctx) => {
        const contentType = ctx.req.headers["content-type"] ?? "";
        const text = (await readBody(ctx.req)).toString("utf8");
        if (!contentType.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
          throw oauthError("invalid_request", "the token request must be application/x-www-form-urlencoded");
        }
        const form = new URLSearchParams(text);
        if (form.get("grant_type") !== "client_credentials") {
          throw oauthError("unsupported_grant_type", "grant_type must be client_credentials");
        }
        if (form.get("client_assertion_type") !== JWT_BEARER) {
          throw oauthError("invalid_request", `client_assertion_type must be ${JWT_BEARER}`);
        }
        const assertion = form.get("client_assertion");
        if (assertion === null || assertion === "")
          throw oauthError("invalid_request", "client_assertion is missing");
        const now = Date.now();
        const check = checkClientAssertion({
          assertion,
          audience: context.urls.oauth,
          publicKeyOf: (clientId) => context.runners.byClientId(clientId)?.publicKey,
          acceptRs256: context.settings.acceptRs256,
          jtiSeen: (jti) => jtis.has(jti, now),
          now,
        });
        if (!check.ok) throw oauthError(check.error, check.description);
        jtis.add(check.jti, check.expiresAtMs);
        const runner = context.runners.byClientId(check.clientId);
        if (runner === undefined) throw oauthError("invalid_client", "the runner registration was deleted");
        const lifetime = context.settings.accessTokenLifetimeMs;
        const { token, expiresAt } = context.tokens.issue(
          { kind: "runner", runnerId: runner.id },
          lifetime,
          now,
        );
        grants.push({
          runnerId: runner.id,
          algorithm: String(
            JSON.parse(Buffer.from(assertion.split(".")[0] ?? "", "base64url").toString()).alg,
          ),
          issuedAt: new Date(now),
          expiresAt,
        });
        sendJson(
          ctx.res,
          200,
          { access_token: token, token_type: "bearer", expires_in: Math.max(1, Math.floor(lifetime / 1000)) },
          { "cache-control": "no-store" },
        );
      },
    },
  ];
}
