import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkClientAssertion } from "../src/auth/jwt-verify.ts";
import { parseFeedFrame, publicKeyFromXml, publicKeyToXml, signRsa } from "../src/index.ts";
import { AppendBlobStore } from "../src/results/append-blob-store.ts";

// The pure rules behind the endpoints: key XML, assertion checks, feed frames, blob storage.

describe("protocol rules", () => {
  it("reads back the .NET RSAKeyValue XML of a public key", () => {
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const xml = publicKeyToXml(publicKey);
    expect(xml).toMatch(
      /^<RSAKeyValue><Modulus>[A-Za-z0-9+/=]+<\/Modulus><Exponent>AQAB<\/Exponent><\/RSAKeyValue>$/,
    );
    expect(publicKeyFromXml(xml)?.export({ format: "jwk" })).toEqual(publicKey.export({ format: "jwk" }));
    expect(publicKeyFromXml("<RSAKeyValue/>")).toBeUndefined();
  });

  it("checks a client assertion's claims", () => {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const now = Date.now();
    const claims = {
      iss: "c",
      sub: "c",
      aud: "http://x/token",
      jti: "j",
      nbf: Math.floor(now / 1000),
      exp: Math.floor(now / 1000) + 300,
    };
    const base = {
      audience: "http://x/token",
      publicKeyOf: () => publicKey,
      acceptRs256: true,
      jtiSeen: () => false,
      now,
    };
    expect(checkClientAssertion({ ...base, assertion: signRsa(claims, "PS256", privateKey) })).toMatchObject({
      ok: true,
      clientId: "c",
    });
    expect(
      checkClientAssertion({ ...base, assertion: signRsa({ ...claims, sub: "other" }, "PS256", privateKey) }),
    ).toMatchObject({
      ok: false,
      error: "invalid_client",
    });
    expect(
      checkClientAssertion({ ...base, assertion: signRsa(claims, "PS256", privateKey), jtiSeen: () => true }),
    ).toMatchObject({
      ok: false,
      error: "invalid_grant",
    });
    expect(
      checkClientAssertion({
        ...base,
        assertion: signRsa(claims, "PS256", privateKey),
        publicKeyOf: () => undefined,
      }),
    ).toMatchObject({
      ok: false,
      error: "invalid_client",
    });
  });

  it("reads camelCase feed frames and refuses others", () => {
    const stepId = "6f1c1d3a-0000-4000-8000-000000000001";
    expect(parseFeedFrame(JSON.stringify({ count: 1, value: ["a"], stepId }))).toEqual({
      ok: true,
      frame: { stepId, lines: ["a"], startLine: undefined },
    });
    expect(parseFeedFrame(JSON.stringify({ count: 2, value: ["a"], stepId }))).toMatchObject({ ok: false });
    expect(parseFeedFrame("not json")).toMatchObject({ ok: false });
  });

  it("stores append blobs as Azure does: create, append, seal; no block after the seal", () => {
    const store = new AppendBlobStore("http://x/blobs");
    const url = new URL(store.urlFor("job", "step-log", "STEP"));
    const id = url.pathname.split("/").pop() ?? "";
    expect(store.checkSignature(id, url.searchParams).ok).toBe(true);
    expect(store.appendBlock(id, Buffer.from("x"), false)).toMatchObject({ ok: false, code: "BlobNotFound" });
    expect(store.putBlob(id, undefined, Buffer.alloc(0), undefined)).toMatchObject({
      ok: false,
      status: 400,
    });
    expect(store.putBlob(id, "AppendBlob", Buffer.alloc(0), undefined)).toMatchObject({
      ok: true,
      status: 201,
    });
    expect(store.appendBlock(id, Buffer.from("a\n"), false).ok).toBe(true);
    expect(store.seal(id).ok).toBe(true);
    expect(store.appendBlock(id, Buffer.from("b\n"), false)).toMatchObject({
      ok: false,
      code: "BlobIsSealed",
    });
    expect(store.text("job", "step-log", "step")).toBe("a\n");
    expect(new URL(store.urlFor("job", "step-log", "step")).pathname).toBe(url.pathname);
  });
});
