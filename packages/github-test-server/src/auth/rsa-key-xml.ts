import { createPublicKey, type KeyObject } from "node:crypto";

// RSA keys as .NET writes them. The runner sends its public key as
// `<RSAKeyValue><Modulus>…</Modulus><Exponent>…</Exponent></RSAKeyValue>` (RSA.ToXmlString, base64
// big-endian integers); a JIT runner gets its private key as `.credentials_rsaparams`: the
// RSAParameters fields, base64, under the names .NET's ISerializable gives them.

/** The public key in an `<RSAKeyValue>` document; `undefined` when it is not one. */
export function publicKeyFromXml(xml: string): KeyObject | undefined {
  const modulus = /<Modulus>\s*([A-Za-z0-9+/=\s]+?)\s*<\/Modulus>/.exec(xml)?.[1];
  const exponent = /<Exponent>\s*([A-Za-z0-9+/=\s]+?)\s*<\/Exponent>/.exec(xml)?.[1];
  if (!/^\s*<RSAKeyValue>/.test(xml) || modulus === undefined || exponent === undefined) return undefined;
  const n = Buffer.from(modulus.replace(/\s/g, ""), "base64");
  const e = Buffer.from(exponent.replace(/\s/g, ""), "base64");
  if (n.length < 128 || e.length === 0) return undefined;
  try {
    return createPublicKey({
      key: { kty: "RSA", n: n.toString("base64url"), e: e.toString("base64url") },
      format: "jwk",
    });
  } catch {
    return undefined;
  }
}

/** A public key as .NET's `RSA.ToXmlString(false)` writes it. */
export function publicKeyToXml(key: KeyObject): string {
  const jwk = key.export({ format: "jwk" });
  const n = Buffer.from(jwk.n ?? "", "base64url").toString("base64");
  const e = Buffer.from(jwk.e ?? "", "base64url").toString("base64");
  return `<RSAKeyValue><Modulus>${n}</Modulus><Exponent>${e}</Exponent></RSAKeyValue>`;
}

/** The `.credentials_rsaparams` file of a private key: RSAParameters fields as base64. */
export function rsaParametersJson(privateKey: KeyObject): Record<string, string> {
  const jwk = privateKey.export({ format: "jwk" });
  const field = (value: string | undefined): string =>
    Buffer.from(value ?? "", "base64url").toString("base64");
  return {
    d: field(jwk.d),
    dp: field(jwk.dp),
    dq: field(jwk.dq),
    exponent: field(jwk.e),
    inverseQ: field(jwk.qi),
    modulus: field(jwk.n),
    p: field(jwk.p),
    q: field(jwk.q),
  };
}
