import { constants, type KeyObject, randomUUID, sign } from "node:crypto";

// The client assertion the runner signs for every token exchange, as the reference runner's
// VssOAuthJwtBearerAssertion + JsonWebToken: header {typ: "JWT", alg}, claims sub and jti first
// (its additional claims), then iss, aud, nbf and exp as Unix seconds; no iat. `iss` = `sub` =
// the client id, `aud` = the authorization URL, valid for five minutes from now. PS256 (RSA-PSS,
// SHA-256, salt = hash length, .NET's RSASignaturePadding.Pss) when the credentials ask for FIPS
// cryptography (the v2 default), RS256 otherwise.

/** The two algorithms the reference runner signs with. */
export type AssertionAlgorithm = "PS256" | "RS256";

/** How long an assertion is valid. */
export const ASSERTION_LIFETIME_SECONDS = 5 * 60;

/** What {@link createClientAssertion} needs. */
export interface ClientAssertionInput {
  readonly clientId: string;
  readonly authorizationUrl: string;
  readonly key: KeyObject;
  /** Default PS256. */
  readonly algorithm?: AssertionAlgorithm;
  /** For tests: the time (ms) and the token id. */
  readonly now?: number;
  readonly jti?: string;
}

/** The claims of an assertion. */
export interface ClientAssertionClaims {
  readonly sub: string;
  readonly jti: string;
  readonly iss: string;
  readonly aud: string;
  readonly nbf: number;
  readonly exp: number;
}

function segment(value: object): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

/**
 * A signed JWT (a new `jti` every call: never reuse one).
 *
 * @example
 *   const jwt = createClientAssertion({ clientId, authorizationUrl, key });
 */
export function createClientAssertion(input: ClientAssertionInput): string {
  const algorithm = input.algorithm ?? "PS256";
  const now = Math.floor((input.now ?? Date.now()) / 1000);
  const claims: ClientAssertionClaims = {
    sub: input.clientId,
    jti: input.jti ?? randomUUID(),
    iss: input.clientId,
    aud: input.authorizationUrl,
    nbf: now,
    exp: now + ASSERTION_LIFETIME_SECONDS,
  };
  const signingInput = `${segment({ typ: "JWT", alg: algorithm })}.${segment(claims)}`;
  const signature = sign(
    "sha256",
    Buffer.from(signingInput, "utf8"),
    algorithm === "PS256"
      ? {
          key: input.key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        }
      : { key: input.key, padding: constants.RSA_PKCS1_PADDING },
  );
  return `${signingInput}.${signature.toString("base64url")}`;
}
