import { createHmac } from "node:crypto";

// Forgejo's CreateAuthorizationToken: an HS256 JWT the runner passes to actions as
// ACTIONS_RUNTIME_TOKEN (for the cache and artifact APIs, which this test server does not serve).
// Its claims mirror Forgejo's: scope `Actions.Results:<run>:<job>`, the task, run and job ids.

/** Which task the token is for. */
export interface RuntimeTokenClaims {
  readonly taskId: bigint;
  readonly runId: bigint;
  readonly jobId: bigint;
}

/** A signed runtime token, valid for a day from `now`. */
export function createRuntimeToken(claims: RuntimeTokenClaims, secret: Buffer, now: Date): string {
  const iat = Math.floor(now.getTime() / 1000);
  const header = { alg: "HS256", typ: "JWT" };
  const payload = {
    exp: iat + 24 * 60 * 60,
    nbf: iat,
    iat,
    scp: `Actions.Results:${claims.runId}:${claims.jobId}`,
    TaskID: Number(claims.taskId),
    RunID: Number(claims.runId),
    JobID: Number(claims.jobId),
    ac: "[]",
  };
  const encode = (part: object): string => Buffer.from(JSON.stringify(part)).toString("base64url");
  const unsigned = `${encode(header)}.${encode(payload)}`;
  const signature = createHmac("sha256", secret).update(unsigned).digest("base64url");
  return `${unsigned}.${signature}`;
}
