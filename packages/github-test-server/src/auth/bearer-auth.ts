import { HttpError } from "../http/http-io.ts";
import type { RouteContext } from "../http/router.ts";
import type { ServerContext } from "../server-context.ts";
import { bearerToken } from "./authorization-header.ts";
import type { TokenSubject } from "./token-issuer.ts";

// Bearer authentication of the broker, run service, results service and feed: a missing,
// forged or expired token is 401 with `WWW-Authenticate: Bearer` (what makes the runner fetch a
// new access token); a good token of the wrong kind or for another job is the caller's problem.

/** The 401 answer for a missing or bad bearer token. */
export function unauthorized(reason: string): HttpError {
  return new HttpError(
    401,
    { message: `unauthorized: ${reason}` },
    { "www-authenticate": `Bearer error="invalid_token", error_description="${reason}"` },
  );
}

/** The subject of the request's bearer token, or a 401. */
export function requireBearer(ctx: Pick<RouteContext, "req">, context: ServerContext): TokenSubject {
  const check = context.tokens.check(bearerToken(ctx.req.headers.authorization));
  if (!check.ok) {
    const reasons = {
      missing: "a bearer token is required",
      malformed: "the bearer token is not one of this server's",
      "bad-signature": "the bearer token's signature is wrong",
      expired: "the access token expired",
    } as const;
    throw unauthorized(reasons[check.reason]);
  }
  return check.subject;
}

/** The runner id of the request's runner access token; a job token is refused (401). */
export function requireRunnerBearer(ctx: Pick<RouteContext, "req">, context: ServerContext): number {
  const subject = requireBearer(ctx, context);
  if (subject.kind !== "runner")
    throw unauthorized("this call needs the runner's OAuth access token, not a job token");
  return subject.runnerId;
}
