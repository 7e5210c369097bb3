import { createPrivateKey, generateKeyPairSync, randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { decodeJitConfig, GitHubTestServer, signRsa } from "../src/index.ts";
import {
  accessToken,
  call,
  clientAssertion,
  createSession,
  field,
  getMessage,
  makeKey,
  registerRunner,
  tokenRequest,
} from "./runner-client.ts";

// Registration, OAuth and JIT configuration through real HTTP, as the runner's config.sh and
// listener call them.

const servers: GitHubTestServer[] = [];

async function startServer(
  options: Parameters<typeof GitHubTestServer.start>[0] = {},
): Promise<GitHubTestServer> {
  const server = await GitHubTestServer.start({ messageHoldMs: 300, ...options });
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("registration (runner-admin flow)", () => {
  it("registers with a token from a PAT, answering `authorization`, and lists the runner by name", async () => {
    const server = await startServer();
    server.addRepository("acme/widget");
    const pat = server.createPersonalAccessToken();
    const auth = await registerRunner(server, "acme/widget", pat, { name: "builder-1", labels: ["omnios"] });
    expect(auth.authorizationUrl).toBe(server.urls.oauth);
    expect(auth.serverUrl).toBe(server.urls.broker);
    expect(auth.clientId).toMatch(/^[0-9a-f-]{36}$/);
    const runner = server.runners()[0];
    expect(runner?.labels.map((l) => `${l.name}:${l.type}`)).toEqual([
      "self-hosted:system",
      "Linux:system",
      "X64:system",
      "omnios:user",
    ]);
    // GHES-style paths answer too; the same registration token serves several calls.
    const token = server.createRegistrationToken("acme/widget");
    const list = await call(`${server.publicUrl}/api/v3/repos/acme/widget/actions/runners?name=BUILDER-1`, {
      headers: { authorization: `RemoteAuth ${token}` },
    });
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({
      total_count: 1,
      runners: [{ id: auth.id, name: "builder-1", status: "offline" }],
    });
    const groups = await call(`${server.publicUrl}/repos/acme/widget/actions/runner-groups`, {
      headers: { authorization: `RemoteAuth ${token}` },
    });
    expect(groups.body).toMatchObject({
      total_count: 1,
      runner_groups: [{ id: 1, name: "Default", default: true }],
    });
  });

  it("refuses bad credentials, a duplicate name (unless replaced), string labels and a bad key", async () => {
    const server = await startServer();
    server.addRepository("acme/widget");
    const pat = server.createPersonalAccessToken();
    const noAuth = await call(`${server.urls.api}/repos/acme/widget/actions/runners/registration-token`, {
      method: "POST",
    });
    expect(noAuth.status).toBe(401);
    const unknownRepo = await call(
      `${server.urls.api}/repos/acme/nothing/actions/runners/registration-token`,
      {
        method: "POST",
        headers: { authorization: `token ${pat}` },
      },
    );
    expect(unknownRepo.status).toBe(404);
    const auth = await registerRunner(server, "acme/widget", pat, { name: "dup" });
    const token = server.createRegistrationToken("acme/widget");
    const base = {
      url: server.gitHubUrl("acme/widget"),
      group_id: 1,
      name: "dup",
      version: "2.330.0",
      updates_disabled: false,
      ephemeral: false,
      labels: [{ id: 0, name: "self-hosted", type: "system" }],
      public_key: makeKey().xml,
    };
    const headers = { authorization: `RemoteAuth ${token}` };
    const duplicate = await call(`${server.urls.api}/actions/runners/register`, { headers, body: base });
    expect(duplicate.status).toBe(409);
    const replaced = await call(`${server.urls.api}/actions/runners/register`, {
      headers,
      body: { ...base, runner_id: auth.id, replace: true },
    });
    expect(replaced.status).toBe(200);
    expect(field(replaced.body, "id")).toBe(auth.id);
    expect(server.runners()[0]?.replacements).toBe(1);
    const stringLabels = await call(`${server.urls.api}/actions/runners/register`, {
      headers,
      body: { ...base, name: "other", labels: ["self-hosted"] },
    });
    expect(stringLabels.status).toBe(422);
    const badKey = await call(`${server.urls.api}/actions/runners/register`, {
      headers,
      body: { ...base, name: "other", public_key: "<RSAKeyValue/>" },
    });
    expect(badKey.status).toBe(422);
    const withPat = await call(`${server.urls.api}/actions/runners/register`, {
      headers: { authorization: `token ${pat}` },
      body: { ...base, name: "other" },
    });
    expect(withPat.status).toBe(401);
  });

  it("removes a runner with RemoteAuth and a remove token, not a registration token", async () => {
    const server = await startServer();
    server.addRepository("acme/widget");
    const auth = await registerRunner(server, "acme/widget", server.createPersonalAccessToken());
    const url = `${server.urls.api}/repos/acme/widget/actions/runners/${auth.id}`;
    const wrong = await call(url, {
      method: "DELETE",
      headers: { authorization: `RemoteAuth ${server.createRegistrationToken("acme/widget")}` },
    });
    expect(wrong.status).toBe(403);
    const removed = await call(url, {
      method: "DELETE",
      headers: { authorization: `RemoteAuth ${server.createRemoveToken("acme/widget")}` },
    });
    expect(removed.status).toBe(204);
    expect(server.runners()[0]?.deletedAt).toBeInstanceOf(Date);
    // Its token exchange now fails as GitHub's does for a deleted registration.
    const exchange = await tokenRequest(auth.authorizationUrl, clientAssertion(auth));
    expect(exchange.status).toBe(400);
    expect(field(exchange.body, "error")).toBe("invalid_client");
  });
});

describe("OAuth token exchange", () => {
  it("accepts PS256 and RS256 assertions and answers a bearer token with expires_in", async () => {
    const server = await startServer({ accessTokenLifetimeMs: 5_000 });
    server.addRepository("acme/widget");
    const auth = await registerRunner(server, "acme/widget", server.createPersonalAccessToken());
    for (const alg of ["PS256", "RS256"] as const) {
      const answer = await tokenRequest(auth.authorizationUrl, clientAssertion(auth, alg));
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ token_type: "bearer", expires_in: 5 });
      expect(field<string>(answer.body, "access_token").split(".")).toHaveLength(3);
    }
    expect(server.accessTokenGrants.map((g) => g.algorithm)).toEqual(["PS256", "RS256"]);
  });

  it("refuses a reused jti, a wrong key, a wrong audience, an expired assertion, and RS256 when told to", async () => {
    const server = await startServer({ acceptRs256: false });
    server.addRepository("acme/widget");
    const auth = await registerRunner(server, "acme/widget", server.createPersonalAccessToken());
    const assertion = clientAssertion(auth);
    expect((await tokenRequest(auth.authorizationUrl, assertion)).status).toBe(200);
    const reused = await tokenRequest(auth.authorizationUrl, assertion);
    expect(reused).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    const wrongKey = await tokenRequest(
      auth.authorizationUrl,
      clientAssertion({ ...auth, key: makeKey().privateKey }),
    );
    expect(wrongKey).toMatchObject({ status: 400, body: { error: "invalid_client" } });
    const wrongAudience = await tokenRequest(
      auth.authorizationUrl,
      clientAssertion(auth, "PS256", { aud: "https://elsewhere/" }),
    );
    expect(wrongAudience).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    const past = Math.floor(Date.now() / 1000) - 3600;
    const expired = await tokenRequest(
      auth.authorizationUrl,
      clientAssertion(auth, "PS256", { nbf: past, exp: past + 300 }),
    );
    expect(expired.status).toBe(400);
    expect(field<string>(expired.body, "error_description")).toMatch(/Current server time is/);
    const rs256 = await tokenRequest(auth.authorizationUrl, clientAssertion(auth, "RS256"));
    expect(rs256).toMatchObject({ status: 400, body: { error: "invalid_client" } });
    const json = await call(auth.authorizationUrl, { body: { grant_type: "client_credentials" } });
    expect(json).toMatchObject({ status: 400, body: { error: "invalid_request" } });
  });

  it("serves connectionData anonymously at the tenant URL", async () => {
    const server = await startServer();
    const answer = await call(
      `${server.urls.tenant}_apis/connectionData?connectOptions=1&lastChangeId=-1&lastChangeId64=-1`,
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      instanceId: expect.any(String),
      locationServiceData: { serviceOwner: expect.any(String) },
    });
  });
});

describe("JIT configuration", () => {
  it("encodes .runner, .credentials and .credentials_rsaparams; the runner authenticates from them", async () => {
    const server = await startServer();
    server.addRepository("acme/widget");
    const pat = server.createPersonalAccessToken();
    const answer = await call(`${server.urls.api}/repos/acme/widget/actions/runners/generate-jitconfig`, {
      headers: { authorization: `Bearer ${pat}` },
      body: { name: "jit-1", runner_group_id: 1, labels: ["omnios", "x64"], work_folder: "_work" },
    });
    expect(answer.status).toBe(201);
    expect(field(answer.body, "runner")).toMatchObject({ name: "jit-1", ephemeral: true });
    const files = decodeJitConfig(field<string>(answer.body, "encoded_jit_config"));
    expect(Object.keys(files).sort()).toEqual([".credentials", ".credentials_rsaparams", ".runner"]);
    const settings = JSON.parse(files[".runner"] ?? "") as Record<string, unknown>;
    expect(settings).toMatchObject({
      AgentId: String(field(field(answer.body, "runner"), "id")),
      AgentName: "jit-1",
      PoolId: "1",
      ServerUrlV2: server.urls.broker,
      UseV2Flow: "True",
      GitHubUrl: server.gitHubUrl("acme/widget"),
    });
    expect(Object.values(settings).every((v) => typeof v === "string")).toBe(true);
    const credentials = JSON.parse(files[".credentials"] ?? "") as {
      scheme: string;
      data: Record<string, string>;
    };
    expect(credentials.scheme).toBe("OAuth");
    const rsa = JSON.parse(files[".credentials_rsaparams"] ?? "") as Record<string, string>;
    expect(Object.keys(rsa).sort()).toEqual(["d", "dp", "dq", "exponent", "inverseQ", "modulus", "p", "q"]);
    const key = createPrivateKey({
      format: "jwk",
      key: {
        kty: "RSA",
        n: Buffer.from(rsa.modulus ?? "", "base64").toString("base64url"),
        e: Buffer.from(rsa.exponent ?? "", "base64").toString("base64url"),
        d: Buffer.from(rsa.d ?? "", "base64").toString("base64url"),
        p: Buffer.from(rsa.p ?? "", "base64").toString("base64url"),
        q: Buffer.from(rsa.q ?? "", "base64").toString("base64url"),
        dp: Buffer.from(rsa.dp ?? "", "base64").toString("base64url"),
        dq: Buffer.from(rsa.dq ?? "", "base64").toString("base64url"),
        qi: Buffer.from(rsa.inverseQ ?? "", "base64").toString("base64url"),
      },
    });
    const auth = {
      id: Number(settings.AgentId),
      clientId: credentials.data.clientId ?? "",
      authorizationUrl: credentials.data.authorizationUrl ?? "",
      serverUrl: String(settings.ServerUrlV2),
      key,
    };
    const token = await accessToken(auth);
    const sessionId = await createSession(auth, token);
    expect((await getMessage(auth, token, sessionId)).status).toBe(202);
    const again = await call(`${server.urls.api}/repos/acme/widget/actions/runners/generate-jitconfig`, {
      headers: { authorization: `Bearer ${pat}` },
      body: { name: "jit-1", runner_group_id: 1, labels: ["omnios"] },
    });
    expect(again.status).toBe(409);
  });

  it("goes App JWT → installation → installation token → JIT config", async () => {
    const app = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const server = await startServer({
      app: { appId: 4242, publicKey: app.publicKey.export({ type: "spki", format: "pem" }).toString() },
    });
    server.addRepository("acme/widget");
    const installationId = server.installApp("acme");
    const now = Math.floor(Date.now() / 1000);
    const appJwt = signRsa({ iat: now - 60, exp: now + 540, iss: "4242" }, "RS256", app.privateKey);
    const installation = await call(`${server.urls.api}/repos/acme/widget/installation`, {
      headers: { authorization: `Bearer ${appJwt}` },
    });
    expect(installation).toMatchObject({
      status: 200,
      body: { id: installationId, account: { login: "acme" } },
    });
    const tooLong = signRsa({ iat: now, exp: now + 3600, iss: "4242" }, "RS256", app.privateKey);
    expect(
      (
        await call(`${server.urls.api}/orgs/acme/installation`, {
          headers: { authorization: `Bearer ${tooLong}` },
        })
      ).status,
    ).toBe(401);
    const tokenAnswer = await call(`${server.urls.api}/app/installations/${installationId}/access_tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${appJwt}` },
    });
    expect(tokenAnswer.status).toBe(201);
    const installationToken = field<string>(tokenAnswer.body, "token");
    expect(installationToken).toMatch(/^ghs_/);
    const jit = await call(`${server.urls.api}/orgs/acme/actions/runners/generate-jitconfig`, {
      headers: { authorization: `token ${installationToken}` },
      body: { name: `jit-${randomUUID().slice(0, 4)}`, runner_group_id: 1, labels: ["linux"] },
    });
    expect(jit.status).toBe(201);
    // The installation token buys registration tokens too, for its own account only.
    server.addRepository("other/repo");
    const foreign = await call(`${server.urls.api}/repos/other/repo/actions/runners/registration-token`, {
      method: "POST",
      headers: { authorization: `token ${installationToken}` },
    });
    expect(foreign.status).toBe(403);
  });
});
