import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { z } from "zod";
import { RunnerKeyError } from "../errors.ts";

// The runner's RSA key, in the two forms the reference runner uses: the public key as .NET
// `RSA.ToXmlString(false)` XML (sent once at registration), and the whole key as the
// `.credentials_rsaparams` file, .NET `RSAParameters` with the lower-case names its
// ISerializable writer gives (d, dp, dq, exponent, inverseQ, modulus, p, q), each the
// big-endian bytes in base64. .NET's ImportParameters wants fixed lengths (d as long as the
// modulus; p, q, dp, dq, inverseQ half of it), so they are written padded; JWK (what node:crypto
// reads) wants them without leading zeros.

/** The key size the reference runner creates. */
export const RUNNER_KEY_BITS = 2048;

/** The `.credentials_rsaparams` content. */
export const RsaParamsSchema = z.object({
  d: z.string().min(1),
  dp: z.string().min(1),
  dq: z.string().min(1),
  exponent: z.string().min(1),
  inverseQ: z.string().min(1),
  modulus: z.string().min(1),
  p: z.string().min(1),
  q: z.string().min(1),
});
/** @see RsaParamsSchema */
export type RsaParams = z.infer<typeof RsaParamsSchema>;

/** A new 2048-bit RSA private key. */
export function generateRunnerKey(): KeyObject {
  return generateKeyPairSync("rsa", { modulusLength: RUNNER_KEY_BITS, publicExponent: 0x10001 }).privateKey;
}

interface RsaJwk {
  n: string;
  e: string;
  d?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
}

function jwkOf(key: KeyObject): RsaJwk {
  const jwk = key.export({ format: "jwk" }) as Partial<RsaJwk> & { kty?: string };
  if (jwk.kty !== "RSA" || jwk.n === undefined || jwk.e === undefined) {
    throw new RunnerKeyError("not an RSA key");
  }
  return jwk as RsaJwk;
}

function unsigned(base64url: string): Buffer {
  const bytes = Buffer.from(base64url, "base64url");
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

function padded(bytes: Buffer, length: number): Buffer {
  if (bytes.length >= length) return bytes;
  return Buffer.concat([Buffer.alloc(length - bytes.length), bytes]);
}

/**
 * The public key as .NET XML.
 *
 * @example
 *   publicKeyXml(key); // "<RSAKeyValue><Modulus>xq3…</Modulus><Exponent>AQAB</Exponent></RSAKeyValue>"
 */
export function publicKeyXml(key: KeyObject): string {
  const jwk = jwkOf(key.type === "private" ? createPublicKey(key) : key);
  const modulus = unsigned(jwk.n).toString("base64");
  const exponent = unsigned(jwk.e).toString("base64");
  return `<RSAKeyValue><Modulus>${modulus}</Modulus><Exponent>${exponent}</Exponent></RSAKeyValue>`;
}

/** The public key read back from .NET XML (what a server does with it). */
export function publicKeyFromXml(xml: string): KeyObject {
  const modulus = /<Modulus>\s*([^<]+?)\s*<\/Modulus>/.exec(xml)?.[1];
  const exponent = /<Exponent>\s*([^<]+?)\s*<\/Exponent>/.exec(xml)?.[1];
  if (modulus === undefined || exponent === undefined) {
    throw new RunnerKeyError("the XML has no <Modulus> or <Exponent>");
  }
  return createPublicKey({
    key: {
      kty: "RSA",
      n: Buffer.from(modulus, "base64").toString("base64url"),
      e: Buffer.from(exponent, "base64").toString("base64url"),
    },
    format: "jwk",
  });
}

/** The private key as `.credentials_rsaparams` content. */
export function rsaParamsFromKey(key: KeyObject): RsaParams {
  if (key.type !== "private") throw new RunnerKeyError("a private key is needed");
  const jwk = jwkOf(key);
  const { d, p, q, dp, dq, qi } = jwk;
  if (
    d === undefined ||
    p === undefined ||
    q === undefined ||
    dp === undefined ||
    dq === undefined ||
    qi === undefined
  ) {
    throw new RunnerKeyError("the key has no CRT parameters");
  }
  const modulus = unsigned(jwk.n);
  const half = Math.ceil(modulus.length / 2);
  const b64 = (value: string, length: number) => padded(unsigned(value), length).toString("base64");
  return {
    d: b64(d, modulus.length),
    dp: b64(dp, half),
    dq: b64(dq, half),
    exponent: unsigned(jwk.e).toString("base64"),
    inverseQ: b64(qi, half),
    modulus: modulus.toString("base64"),
    p: b64(p, half),
    q: b64(q, half),
  };
}

/** The private key from `.credentials_rsaparams` content. Throws `RunnerKeyError`. */
export function keyFromRsaParams(params: RsaParams): KeyObject {
  const url = (value: string) =>
    unsigned(Buffer.from(value, "base64").toString("base64url")).toString("base64url");
  try {
    return createPrivateKey({
      key: {
        kty: "RSA",
        n: url(params.modulus),
        e: url(params.exponent),
        d: url(params.d),
        p: url(params.p),
        q: url(params.q),
        dp: url(params.dp),
        dq: url(params.dq),
        qi: url(params.inverseQ),
      },
      format: "jwk",
    });
  } catch (error) {
    throw new RunnerKeyError(`the RSA parameters do not form a key: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

const PARAM_NAMES = ["d", "dp", "dq", "exponent", "inverseQ", "modulus", "p", "q"] as const;

/** A parsed rsaparams object with its keys in the canonical case (`DP` → `dp`, `InverseQ` → `inverseQ`). */
export function canonicalRsaParamKeys(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const name = PARAM_NAMES.find((n) => n.toLowerCase() === key.toLowerCase()) ?? key;
    out[name] = item;
  }
  return out;
}
