import { randomUUID } from "node:crypto";
import { decodeJwt, signHs256, verifyHs256 } from "./jwt.ts";

// The server's own bearer tokens: a runner's OAuth access token and a job's access token, both
// HS256 JWTs as GitHub's are JWTs. A token says what it is for (`kind`) and whose it is; the
// routes decide whether that is enough (a runner's token is not a job's).

/** Whose a token is. */
export type TokenSubject =
  | { readonly kind: "runner"; readonly runnerId: number }
  | { readonly kind: "job"; readonly jobId: string };

/** Why a token was refused. */
export type TokenRefusal = "missing" | "malformed" | "bad-signature" | "expired";

export type TokenCheck =
  | { readonly ok: true; readonly subject: TokenSubject; readonly expiresAt: Date }
  | { readonly ok: false; readonly reason: TokenRefusal };

/** Issues and checks the server's bearer tokens. */
export class TokenIssuer {
  readonly #secret: Buffer;
  readonly #issuer: string;

  constructor(secret: Buffer, issuer: string) {
    this.#secret = secret;
    this.#issuer = issuer;
  }

  /** A token for `subject`, valid `lifetimeMs` from `now`. */
  issue(subject: TokenSubject, lifetimeMs: number, now = Date.now()): { token: string; expiresAt: Date } {
    const exp = Math.floor((now + lifetimeMs) / 1000);
    const payload = {
      iss: this.#issuer,
      aud: "vso:solstice-test",
      jti: randomUUID(),
      nbf: Math.floor(now / 1000) - 1,
      exp,
      // Milliseconds too: tests use lifetimes of a few seconds.
      exp_ms: now + lifetimeMs,
      ...(subject.kind === "runner"
        ? { kind: "runner", sub: `runner:${subject.runnerId}`, runner_id: subject.runnerId }
        : { kind: "job", sub: `job:${subject.jobId}`, job_id: subject.jobId }),
    };
    return { token: signHs256(payload, this.#secret), expiresAt: new Date(now + lifetimeMs) };
  }

  /** Checks a token's signature and lifetime. */
  check(token: string | undefined, now = Date.now()): TokenCheck {
    if (token === undefined || token === "") return { ok: false, reason: "missing" };
    const jwt = decodeJwt(token);
    if (jwt === undefined) return { ok: false, reason: "malformed" };
    if (!verifyHs256(jwt, this.#secret)) return { ok: false, reason: "bad-signature" };
    const expMs = jwt.payload.exp_ms;
    if (typeof expMs !== "number") return { ok: false, reason: "malformed" };
    if (expMs <= now) return { ok: false, reason: "expired" };
    const { kind, runner_id: runnerId, job_id: jobId } = jwt.payload;
    if (kind === "runner" && typeof runnerId === "number") {
      return { ok: true, subject: { kind, runnerId }, expiresAt: new Date(expMs) };
    }
    if (kind === "job" && typeof jobId === "string") {
      return { ok: true, subject: { kind, jobId }, expiresAt: new Date(expMs) };
    }
    return { ok: false, reason: "malformed" };
  }
}
