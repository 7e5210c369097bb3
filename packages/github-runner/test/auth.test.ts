import { constants, createPublicKey, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MAX_AUTH_RETRIES, type TokenCallOutcome, withTokenRetries } from "../src/auth/token-retry.ts";
import {
  createClientAssertion,
  generateRunnerKey,
  JWT_BEARER_ASSERTION_TYPE,
  keyFromRsaParams,
  parseTokenAnswer,
  publicKeyFromXml,
  publicKeyXml,
  RunnerRemovedError,
  rsaParamsFromKey,
  TokenExchangeError,
  tokenRequestForm,
} from "../src/index.ts";

const key = generateRunnerKey();

function decodeSegment(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, "base64url").toString("utf8")) as Record<string, unknown>;
}

describe("RSA key forms", () => {
  it("writes the public key as .NET XML that reads back to the same key", () => {
    const xml = publicKeyXml(key);
    expect(xml).toMatch(
      /^<RSAKeyValue><Modulus>[A-Za-z0-9+/=]+<\/Modulus><Exponent>AQAB<\/Exponent><\/RSAKeyValue>$/,
    );
    const modulus = Buffer.from(/<Modulus>(.*)<\/Modulus>/.exec(xml)![1]!, "base64");
    expect(modulus.length).toBe(256);
    const back = publicKeyFromXml(xml);
    const original = createPublicKey(key);
    expect(back.export({ format: "jwk" })).toEqual(original.export({ format: "jwk" }));
  });

  it("round-trips the private key through .credentials_rsaparams with .NET's names and lengths", () => {
    const params = rsaParamsFromKey(key);
    expect(Object.keys(params).sort()).toEqual([
      "d",
      "dp",
      "dq",
      "exponent",
      "inverseQ",
      "modulus",
      "p",
      "q",
    ]);
    expect(Buffer.from(params.modulus, "base64").length).toBe(256);
    expect(Buffer.from(params.d, "base64").length).toBe(256);
    for (const half of [params.p, params.q, params.dp, params.dq, params.inverseQ]) {
      expect(Buffer.from(half, "base64").length).toBe(128);
    }
    const back = keyFromRsaParams(params);
    expect(back.export({ format: "jwk" })).toEqual(key.export({ format: "jwk" }));
  });
});

describe("client assertion", () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);
  const input = {
    clientId: "6bd4b1d0-0000-4000-8000-000000000001",
    authorizationUrl: "https://vstoken.actions.githubusercontent.com/_apis/oauth2/token/abc",
    key,
    now,
  };

  for (const algorithm of ["PS256", "RS256"] as const) {
    it(`signs ${algorithm} so that node:crypto verifies it`, () => {
      const jwt = createClientAssertion({ ...input, algorithm });
      const [header, payload, signature] = jwt.split(".") as [string, string, string];
      expect(decodeSegment(header)).toEqual({ typ: "JWT", alg: algorithm });
      const ok = verify(
        "sha256",
        Buffer.from(`${header}.${payload}`),
        algorithm === "PS256"
          ? { key: createPublicKey(key), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
          : { key: createPublicKey(key), padding: constants.RSA_PKCS1_PADDING },
        Buffer.from(signature, "base64url"),
      );
      expect(ok).toBe(true);
    });
  }

  it("is PS256 by default, with iss = sub = client id, aud = authorization URL, five minutes from now", () => {
    const jwt = createClientAssertion(input);
    const [header, payload] = jwt.split(".") as [string, string];
    expect(decodeSegment(header)["alg"]).toBe("PS256");
    const claims = decodeSegment(payload);
    expect(claims).toMatchObject({
      iss: input.clientId,
      sub: input.clientId,
      aud: input.authorizationUrl,
      nbf: now / 1000,
      exp: now / 1000 + 300,
    });
    expect(claims["iat"]).toBeUndefined();
    expect(claims["jti"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("uses a fresh jti every time", () => {
    const jti = (jwt: string) => decodeSegment(jwt.split(".")[1]!)["jti"];
    expect(jti(createClientAssertion(input))).not.toBe(jti(createClientAssertion(input)));
  });
});

describe("token exchange", () => {
  it("sends the client-credentials form with the assertion", () => {
    const form = tokenRequestForm("a.b.c");
    expect(Object.fromEntries(form)).toEqual({
      grant_type: "client_credentials",
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: "a.b.c",
    });
    expect(JWT_BEARER_ASSERTION_TYPE).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  });

  it("reads a token and refreshes it a minute before it expires", () => {
    const token = parseTokenAnswer(
      200,
      JSON.stringify({ access_token: "t0k", token_type: "bearer", expires_in: 3600 }),
      0,
    );
    expect(token).toEqual({ token: "t0k", refreshAt: 3_540_000 });
  });

  it("turns invalid_client into RunnerRemovedError and other errors into TokenExchangeError", () => {
    expect(() =>
      parseTokenAnswer(400, JSON.stringify({ error: "invalid_client", error_description: "gone" }), 0),
    ).toThrow(RunnerRemovedError);
    const skew = () =>
      parseTokenAnswer(
        400,
        JSON.stringify({ error: "invalid_grant", error_description: "Current server time is x" }),
        0,
      );
    expect(skew).toThrow(TokenExchangeError);
    expect(() => parseTokenAnswer(500, "oops", 0)).toThrow(/HTTP 500/);
  });
});

describe("a 401 retried with a new token (VssHttpMessageHandler)", () => {
  /** Tokens t1, t2, …; which were dropped. */
  function tokenSource() {
    let n = 0;
    let current: string | undefined;
    const invalidated: string[] = [];
    return {
      invalidated,
      issued: () => n,
      source: {
        token: async () => {
          current ??= `t${++n}`;
          return current;
        },
        invalidate: (token?: string) => {
          if (token !== undefined) invalidated.push(token);
          if (token === undefined || token === current) current = undefined;
        },
      },
    };
  }
  const status401 = (o: TokenCallOutcome<{ status: number }>) => "answer" in o && o.answer.status === 401;

  it("calls again at once with a fresh token, and answers the first call that is not a 401", async () => {
    const tokens = tokenSource();
    const answers = [401, 401, 200];
    const used: string[] = [];
    const answer = await withTokenRetries(
      tokens.source,
      undefined,
      async (token) => {
        used.push(token);
        return { status: answers.shift()! };
      },
      status401,
    );
    expect(answer.status).toBe(200);
    expect(used).toEqual(["t1", "t2", "t3"]);
    expect(tokens.invalidated).toEqual(["t1", "t2"]);
  });

  it("gives up after three retries with the last 401, and never retries another status or error", async () => {
    const tokens = tokenSource();
    let calls = 0;
    const last = await withTokenRetries(
      tokens.source,
      undefined,
      async () => ({ status: 401, call: ++calls }),
      status401,
    );
    expect(last).toEqual({ status: 401, call: 1 + MAX_AUTH_RETRIES });
    let other = 0;
    await withTokenRetries(tokens.source, undefined, async () => ({ status: 503, n: ++other }), status401);
    expect(other).toBe(1);
    const thrown = Object.assign(new Error("acquirejob: 401"), { status: 401 });
    let throws = 0;
    await expect(
      withTokenRetries(
        tokens.source,
        undefined,
        async () => {
          throws += 1;
          throw thrown;
        },
        (o) => "error" in o && (o.error as { status?: number }).status === 401,
      ),
    ).rejects.toBe(thrown);
    expect(throws).toBe(1 + MAX_AUTH_RETRIES);
  });
});
