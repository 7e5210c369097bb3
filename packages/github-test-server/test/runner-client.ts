import { generateKeyPairSync, type KeyObject, randomUUID } from "node:crypto";
import { type GitHubTestServer, publicKeyToXml, type RsaAlgorithm, signRsa } from "../src/index.ts";

// A test-side runner: the calls the reference runner makes, over real HTTP with node fetch, so
// tests drive the server as a runner would.

/** A runner's key pair. */
export interface RunnerKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly xml: string;
}

export function makeKey(): RunnerKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKey, publicKey, xml: publicKeyToXml(publicKey) };
}

/** JSON request helper: the status and parsed body (text when not JSON). */
export async function call(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: unknown;
    form?: Record<string, string>;
  } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body: string | undefined;
  if (init.form !== undefined) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(init.form).toString();
  } else if (init.body !== undefined) {
    headers["content-type"] = "application/json; charset=utf-8";
    body = JSON.stringify(init.body);
  }
  const response = await fetch(url, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** `{field}` of an answer body. */
export function field<T = unknown>(body: unknown, name: string): T {
  return (body as Record<string, unknown>)[name] as T;
}

/** The `authorization` of a registered runner. */
export interface RunnerAuth {
  readonly id: number;
  readonly clientId: string;
  readonly authorizationUrl: string;
  readonly serverUrl: string;
  readonly key: KeyObject;
}

/** Registers a runner the way `config.sh --url … --pat …` does (runner-admin flow). */
export async function registerRunner(
  server: GitHubTestServer,
  entity: string,
  pat: string,
  options: { name?: string; labels?: string[]; ephemeral?: boolean; key?: RunnerKey } = {},
): Promise<RunnerAuth> {
  const scope = entity.includes("/") ? `repos/${entity}` : `orgs/${entity}`;
  const basic = Buffer.from(`github:${pat}`).toString("base64");
  const tokenAnswer = await call(`${server.urls.api}/${scope}/actions/runners/registration-token`, {
    method: "POST",
    headers: { authorization: `basic ${basic}`, accept: "application/vnd.github.v3+json" },
  });
  if (tokenAnswer.status !== 201) throw new Error(`registration-token: ${tokenAnswer.status}`);
  const token = field<string>(tokenAnswer.body, "token");
  const remoteAuth = { authorization: `RemoteAuth ${token}` };
  const url = server.gitHubUrl(entity);
  const tenant = await call(`${server.urls.api}/actions/runner-registration`, {
    headers: remoteAuth,
    body: { url, runner_event: "register" },
  });
  if (tenant.status !== 200) throw new Error(`runner-registration: ${tenant.status}`);
  const groups = await call(`${server.urls.api}/${scope}/actions/runner-groups`, { headers: remoteAuth });
  const group = field<{ id: number }[]>(groups.body, "runner_groups")[0];
  const name = options.name ?? `runner-${randomUUID().slice(0, 8)}`;
  await call(`${server.urls.api}/${scope}/actions/runners?name=${encodeURIComponent(name)}`, {
    headers: remoteAuth,
  });
  const key = options.key ?? makeKey();
  const registered = await call(`${server.urls.api}/actions/runners/register`, {
    headers: remoteAuth,
    body: {
      url,
      group_id: group?.id,
      name,
      version: "2.330.0",
      updates_disabled: false,
      ephemeral: options.ephemeral ?? false,
      labels: [
        { id: 0, name: "self-hosted", type: "system" },
        { id: 0, name: "Linux", type: "system" },
        { id: 0, name: "X64", type: "system" },
        ...(options.labels ?? []).map((label) => ({ id: 0, name: label, type: "user" })),
      ],
      public_key: key.xml,
    },
  });
  if (registered.status !== 201)
    throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`);
  const auth = field<{ client_id: string; authorization_url: string; server_url: string }>(
    registered.body,
    "authorization",
  );
  return {
    id: field<number>(registered.body, "id"),
    clientId: auth.client_id,
    authorizationUrl: auth.authorization_url,
    serverUrl: auth.server_url,
    key: key.privateKey,
  };
}

/** A client assertion as VssOAuthJwtBearerAssertion makes it. */
export function clientAssertion(
  auth: Pick<RunnerAuth, "clientId" | "authorizationUrl" | "key">,
  algorithm: RsaAlgorithm = "PS256",
  overrides: Record<string, unknown> = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  return signRsa(
    {
      sub: auth.clientId,
      jti: randomUUID(),
      iss: auth.clientId,
      aud: auth.authorizationUrl,
      nbf: now,
      exp: now + 300,
      ...overrides,
    },
    algorithm,
    auth.key,
  );
}

/** Exchanges an assertion for an access token; the whole answer. */
export function tokenRequest(url: string, assertion: string): ReturnType<typeof call> {
  return call(url, {
    form: {
      grant_type: "client_credentials",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion,
    },
  });
}

/** An access token for the runner (PS256 by default). */
export async function accessToken(auth: RunnerAuth, algorithm: RsaAlgorithm = "PS256"): Promise<string> {
  const answer = await tokenRequest(auth.authorizationUrl, clientAssertion(auth, algorithm));
  if (answer.status !== 200) throw new Error(`token: ${answer.status} ${JSON.stringify(answer.body)}`);
  return field<string>(answer.body, "access_token");
}

/** A broker session; returns its id. */
export async function createSession(auth: RunnerAuth, token: string): Promise<string> {
  const answer = await call(`${auth.serverUrl}session`, {
    headers: { authorization: `Bearer ${token}` },
    body: {
      sessionId: "00000000-0000-0000-0000-000000000000",
      ownerName: "test (PID: 1)",
      agent: { id: auth.id, name: "runner", version: "2.330.0", osDescription: "Linux" },
      useFipsEncryption: false,
    },
  });
  if (answer.status !== 200) throw new Error(`session: ${answer.status} ${JSON.stringify(answer.body)}`);
  return field<string>(answer.body, "sessionId");
}

/** One long poll of the broker. */
export function getMessage(
  auth: RunnerAuth,
  token: string,
  sessionId: string,
  status = "Online",
): ReturnType<typeof call> {
  const query = new URLSearchParams({
    sessionId,
    status,
    runnerVersion: "2.330.0",
    os: "Linux",
    architecture: "X64",
    disableUpdate: "false",
  });
  return call(`${auth.serverUrl}message?${query.toString()}`, {
    headers: { authorization: `Bearer ${token}` },
  });
}
