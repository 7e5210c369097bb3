import {
  constants,
  createHmac,
  createSign,
  createVerify,
  type KeyObject,
  timingSafeEqual,
} from "node:crypto";

// JSON Web Tokens, compact form: what the server signs (its own access and job tokens, HS256)
// and what it verifies (runners' client assertions, PS256 or RS256; App JWTs, RS256).

/** A token split into its parts, not yet verified. */
export interface DecodedJwt {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  /** `header.payload`, the signed text. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Splits and decodes a compact JWT; `undefined` when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  try {
    const h: unknown = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
    const p: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    if (!isRecord(h) || !isRecord(p)) return undefined;
    return {
      header: h,
      payload: p,
      signingInput: `${header}.${payload}`,
      signature: Buffer.from(signature, "base64url"),
    };
  } catch {
    return undefined;
  }
}

/** Signs `payload` with HS256 (the server's own tokens). */
export function signHs256(payload: Readonly<Record<string, unknown>>, secret: Buffer): string {
  const input = `${base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${base64url(JSON.stringify(payload))}`;
  return `${input}.${base64url(createHmac("sha256", secret).update(input).digest())}`;
}

/** Whether an HS256 signature is the server's. */
export function verifyHs256(jwt: DecodedJwt, secret: Buffer): boolean {
  if (jwt.header.alg !== "HS256") return false;
  const expected = createHmac("sha256", secret).update(jwt.signingInput).digest();
  return expected.length === jwt.signature.length && timingSafeEqual(expected, jwt.signature);
}

/** The RSA algorithms a client may sign with. */
export type RsaAlgorithm = "RS256" | "PS256";

/** Whether `jwt` is signed with `algorithm` by the private half of `publicKey`. */
export function verifyRsa(jwt: DecodedJwt, algorithm: RsaAlgorithm, publicKey: KeyObject): boolean {
  const verifier = createVerify("RSA-SHA256").update(jwt.signingInput);
  if (algorithm === "RS256") return verifier.verify(publicKey, jwt.signature);
  // .NET signs PS256 with a salt as long as the hash (32 bytes); accept any salt length, as
  // JOSE verifiers do.
  return verifier.verify(
    { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
    jwt.signature,
  );
}

/** Signs `payload` with an RSA private key (for tests and tools acting as a runner or an App). */
export function signRsa(
  payload: Readonly<Record<string, unknown>>,
  algorithm: RsaAlgorithm,
  privateKey: KeyObject,
): string {
  const input = `${base64url(JSON.stringify({ alg: algorithm, typ: "JWT" }))}.${base64url(JSON.stringify(payload))}`;
  const signer = createSign("RSA-SHA256").update(input);
  const signature =
    algorithm === "RS256"
      ? signer.sign(privateKey)
      : signer.sign({ key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  return `${input}.${base64url(signature)}`;
}
