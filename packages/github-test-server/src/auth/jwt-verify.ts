import type { KeyObject } from "node:crypto";
import { decodeJwt, type RsaAlgorithm, verifyRsa } from "./jwt.ts";

// Checks of the JWTs clients sign: a runner's client assertion at the OAuth endpoint, and a
// GitHub App's JWT at the App endpoints. Pure: keys, the clock and the seen-jti set are given.

/** OAuth's error codes as the token endpoint answers them. */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unsupported_grant_type";

export type AssertionCheck =
  | { readonly ok: true; readonly clientId: string; readonly jti: string; readonly expiresAtMs: number }
  | { readonly ok: false; readonly error: OAuthErrorCode; readonly description: string };

/** How far a client's clock may be off: the runner's clock-skew message says five minutes. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Checks a runner's client assertion (RFC 7523): signature, iss = sub = client, aud, times, jti. */
export function checkClientAssertion(input: {
  readonly assertion: string;
  /** The token endpoint's own URL: the assertion's `aud`. */
  readonly audience: string;
  /** The public key of a client id, `undefined` for an unknown or deleted client. */
  readonly publicKeyOf: (clientId: string) => KeyObject | undefined;
  readonly acceptRs256: boolean;
  readonly jtiSeen: (jti: string) => boolean;
  readonly now: number;
}): AssertionCheck {
  const refuse = (error: OAuthErrorCode, description: string): AssertionCheck => ({
    ok: false,
    error,
    description,
  });
  const jwt = decodeJwt(input.assertion);
  if (jwt === undefined) return refuse("invalid_request", "client_assertion is not a JWT");
  const { alg } = jwt.header;
  if (alg !== "PS256" && alg !== "RS256")
    return refuse("invalid_client", `unsupported signing algorithm ${String(alg)}`);
  if (alg === "RS256" && !input.acceptRs256) {
    return refuse("invalid_client", "RS256 client assertions are not accepted: sign with PS256");
  }
  const { iss, sub, aud, jti, exp, nbf } = jwt.payload;
  if (typeof iss !== "string" || iss === "") return refuse("invalid_client", "the assertion has no iss");
  const key = input.publicKeyOf(iss);
  // What the reference runner reads as "the runner registration has been deleted".
  if (key === undefined) return refuse("invalid_client", `no runner registration for client ${iss}`);
  if (!verifyRsa(jwt, alg as RsaAlgorithm, key)) {
    return refuse(
      "invalid_client",
      "the client assertion's signature does not match the runner's public key",
    );
  }
  if (sub !== iss) return refuse("invalid_client", "the assertion's sub must equal its iss (the client id)");
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(input.audience)) {
    return refuse("invalid_grant", `the assertion's aud must be ${input.audience}`);
  }
  if (typeof exp !== "number" || typeof nbf !== "number")
    return refuse("invalid_grant", "the assertion needs exp and nbf");
  const nowSeconds = input.now / 1000;
  const skew = CLOCK_SKEW_MS / 1000;
  // These two texts are the ones the reference runner looks for ("Current server time is").
  if (exp + skew < nowSeconds) {
    return refuse(
      "invalid_grant",
      `The bearer token expired on ${new Date(exp * 1000).toISOString()}. Current server time is ${new Date(input.now).toISOString()}.`,
    );
  }
  if (nbf - skew > nowSeconds) {
    return refuse(
      "invalid_grant",
      `The bearer token is not valid until ${new Date(nbf * 1000).toISOString()}. Current server time is ${new Date(input.now).toISOString()}.`,
    );
  }
  if (typeof jti !== "string" || jti === "") return refuse("invalid_grant", "the assertion has no jti");
  if (input.jtiSeen(jti))
    return refuse("invalid_grant", `the assertion ${jti} was already used: sign a new one`);
  return { ok: true, clientId: iss, jti, expiresAtMs: (exp + skew) * 1000 };
}

export type AppJwtCheck = { readonly ok: true } | { readonly ok: false; readonly message: string };

/** GitHub's limit on an App JWT's lifetime. */
const APP_JWT_MAX_LIFETIME_S = 10 * 60;

/** Checks a GitHub App JWT: RS256 by the App's key, `iss` = App id, `exp` ≤ 10 min after `iat`. */
export function checkAppJwt(token: string, appId: string, publicKey: KeyObject, now: number): AppJwtCheck {
  const jwt = decodeJwt(token);
  if (jwt === undefined) return { ok: false, message: "A JSON web token could not be decoded" };
  if (jwt.header.alg !== "RS256") return { ok: false, message: "'alg' must be RS256" };
  if (!verifyRsa(jwt, "RS256", publicKey))
    return { ok: false, message: "A JSON web token could not be decoded" };
  const { iss, iat, exp } = jwt.payload;
  if (String(iss) !== appId) return { ok: false, message: "'Issuer' claim ('iss') must be the App's id" };
  if (typeof iat !== "number" || typeof exp !== "number") {
    return { ok: false, message: "'Issued at' and 'Expiration time' claims are required" };
  }
  const nowSeconds = now / 1000;
  if (exp <= nowSeconds)
    return { ok: false, message: "'Expiration time' claim ('exp') must be in the future" };
  if (iat > nowSeconds + 60)
    return {
      ok: false,
      message: "'Issued at' claim ('iat') must be an Integer representing a time in the past",
    };
  if (exp - iat > APP_JWT_MAX_LIFETIME_S + 60) {
    return { ok: false, message: "'Expiration time' claim ('exp') is too far in the future" };
  }
  return { ok: true };
}
