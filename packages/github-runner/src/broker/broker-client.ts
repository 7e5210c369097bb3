import { hostname } from "node:os";
import { z } from "zod";
import { type TokenSource, withTokenRetries } from "../auth/token-retry.ts";
import { ActionsServiceError, GitHubResponseError, RunnerRemovedError } from "../errors.ts";
import { type FetchFunction, httpCall, isSuccess, parseJsonText } from "../http/http-call.ts";
import { type BrokerMessage, BrokerMessageSchema } from "./broker-messages.ts";

// The broker (v2) listener's HTTP calls, relative to `.runner` serverUrlV2, with the runner's
// access token: POST session, GET message (a long poll of about 50 s that answers an empty
// body when idle), POST acknowledge, DELETE session; and `_apis/connectionData` of the tenant
// URL. Errors carry the broker's `{source: "actions-broker-listener", errorKind, statusCode,
// errorMessage}`: RunnerNotFound means the runner was deleted.

/** The runner's status as the poll reports it (TaskAgentStatus names). */
export type RunnerStatus = "Online" | "Busy";

/** What every poll and acknowledge tells the broker. */
export interface PollIdentity {
  readonly sessionId: string;
  readonly status: RunnerStatus;
  readonly runnerVersion: string;
  /** `Linux`, `macOS`, `Windows`. */
  readonly os: string;
  /** `X64`, `ARM64`… */
  readonly architecture: string;
}

/** The broker's error body. */
export const BrokerErrorSchema = z.object({
  source: z.string().optional(),
  errorKind: z.string().optional(),
  statusCode: z.number().optional(),
  errorMessage: z.string().optional(),
});

/** The broker's error kinds (BrokerErrorKind). */
export const BrokerErrorKinds = {
  RunnerNotFound: "RunnerNotFound",
  RunnerVersionTooOld: "RunnerVersionTooOld",
  HostedRunnerDeprovisioned: "HostedRunnerDeprovisioned",
  RunnerSessionInvalid: "RunnerSessionInvalid",
  AcknowledgeJobNotFound: "AcknowledgeJobNotFound",
} as const;

/** A session as POSTed and answered (TaskAgentSession, camelCase). */
export const SessionResponseSchema = z.object({
  sessionId: z.string().min(1),
  ownerName: z.string().nullish(),
  useFipsEncryption: z.boolean().optional(),
  brokerMigrationMessage: z.object({ brokerBaseUrl: z.string() }).nullish(),
});
/** @see SessionResponseSchema */
export type BrokerSession = z.infer<typeof SessionResponseSchema>;

/** The identity a session is created with. */
export interface SessionRequest {
  readonly agentId: number;
  readonly agentName: string;
  readonly version: string;
  readonly osDescription: string;
  readonly ephemeral?: boolean;
}

/** Body of POST session: no encryption key (broker messages are not encrypted). */
export function sessionBody(
  request: SessionRequest,
  ownerName = `${hostname()} (PID: ${process.pid})`,
): Record<string, unknown> {
  return {
    sessionId: "00000000-0000-0000-0000-000000000000",
    ownerName,
    agent: {
      id: request.agentId,
      name: request.agentName,
      version: request.version,
      osDescription: request.osDescription,
      ...(request.ephemeral === undefined ? {} : { ephemeral: request.ephemeral }),
    },
    useFipsEncryption: false,
  };
}

/** `{base}{path}` with exactly one slash between (the broker URL ends with one). */
export function brokerUrl(base: string, path: string, query?: Record<string, string>): string {
  const url = new URL(path, base.endsWith("/") ? base : `${base}/`);
  for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
  return url.toString();
}

/** The query of GET message. */
export function messageQuery(identity: PollIdentity, disableUpdate: boolean): Record<string, string> {
  return {
    sessionId: identity.sessionId,
    status: identity.status,
    runnerVersion: identity.runnerVersion,
    os: identity.os,
    architecture: identity.architecture,
    disableUpdate: String(disableUpdate),
  };
}

/** The query of POST acknowledge. */
export function acknowledgeQuery(identity: PollIdentity): Record<string, string> {
  return {
    sessionId: identity.sessionId,
    status: identity.status,
    runnerVersion: identity.runnerVersion,
    os: identity.os,
    architecture: identity.architecture,
  };
}

/**
 * The answer of GET message: a message, or undefined when the poll ended idle (an empty body,
 * or 202/204).
 */
export function parseMessageAnswer(status: number, text: string): BrokerMessage | undefined {
  if (status === 202 || status === 204 || text.trim() === "" || text.trim() === "null") return undefined;
  const parsed = BrokerMessageSchema.safeParse(parseJsonText(text));
  if (!parsed.success) {
    throw new GitHubResponseError("broker message", parsed.error.issues[0]?.message ?? "not a message");
  }
  return parsed.data;
}

/** A failed broker call as an error: `RunnerRemovedError` for RunnerNotFound, else `ActionsServiceError`. */
export function brokerError(what: string, url: string, status: number, text: string): Error {
  const body = BrokerErrorSchema.safeParse(parseJsonText(text));
  const kind =
    body.success && body.data.source === "actions-broker-listener" ? body.data.errorKind : undefined;
  if (kind === BrokerErrorKinds.RunnerNotFound) {
    return new RunnerRemovedError(
      body.success ? (body.data.errorMessage ?? "RunnerNotFound") : "RunnerNotFound",
    );
  }
  const hint =
    kind === BrokerErrorKinds.RunnerVersionTooOld
      ? "GitHub refuses this runner version; update solstice-github-runner"
      : kind === BrokerErrorKinds.RunnerSessionInvalid
        ? "the session expired; create a new one"
        : status === 409
          ? "another listener holds this runner's session; retried for up to 4 minutes"
          : undefined;
  return new ActionsServiceError(what, url, status, text, {
    ...(kind === undefined ? {} : { errorKind: kind }),
    ...(body.success && body.data.statusCode !== undefined ? { serviceStatus: body.data.statusCode } : {}),
    ...(hint === undefined ? {} : { hint }),
  });
}

/** Options of {@link BrokerClient}. */
export interface BrokerClientOptions {
  /** `.runner` serverUrlV2. */
  readonly serverUrl: string;
  readonly tokens: TokenSource;
  readonly fetch?: FetchFunction;
  /** Of the long poll; default 60 s (the broker answers after about 50 s). */
  readonly pollTimeoutMs?: number;
}

/** The broker's calls. */
export class BrokerClient {
  readonly #options: BrokerClientOptions;

  constructor(options: BrokerClientOptions) {
    this.#options = options;
  }

  get serverUrl(): string {
    return this.#options.serverUrl;
  }

  async #call(
    what: string,
    method: "GET" | "POST" | "DELETE",
    url: string,
    body: object | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; text: string }> {
    const answer = await withTokenRetries(
      this.#options.tokens,
      signal,
      (token) =>
        httpCall(
          {
            method,
            url,
            headers: { authorization: `Bearer ${token}`, accept: "application/json" },
            ...(body === undefined ? {} : { body }),
            timeoutMs,
            ...(signal === undefined ? {} : { signal }),
          },
          this.#options.fetch,
        ),
      (outcome) => "answer" in outcome && outcome.answer.status === 401,
    );
    if (!isSuccess(answer.status)) throw brokerError(what, url, answer.status, answer.text);
    return answer;
  }

  /** POST session. A 409 (conflict) is an `ActionsServiceError` with status 409. */
  async createSession(request: SessionRequest, signal?: AbortSignal): Promise<BrokerSession> {
    const url = brokerUrl(this.#options.serverUrl, "session");
    const answer = await this.#call("create session", "POST", url, sessionBody(request), 60_000, signal);
    const parsed = SessionResponseSchema.safeParse(parseJsonText(answer.text));
    if (!parsed.success)
      throw new GitHubResponseError("create session", parsed.error.issues[0]?.message ?? "invalid");
    return parsed.data;
  }

  /** GET message: the next message, or undefined after an idle poll. */
  async getMessage(
    identity: PollIdentity,
    disableUpdate: boolean,
    signal?: AbortSignal,
  ): Promise<BrokerMessage | undefined> {
    const url = brokerUrl(this.#options.serverUrl, "message", messageQuery(identity, disableUpdate));
    const answer = await this.#call(
      "get message",
      "GET",
      url,
      undefined,
      this.#options.pollTimeoutMs ?? 60_000,
      signal,
    );
    return parseMessageAnswer(answer.status, answer.text);
  }

  /** POST acknowledge `{runnerRequestId}` (5 s, best effort: the caller logs failures). */
  async acknowledge(runnerRequestId: string, identity: PollIdentity, signal?: AbortSignal): Promise<void> {
    const url = brokerUrl(this.#options.serverUrl, "acknowledge", acknowledgeQuery(identity));
    await this.#call("acknowledge", "POST", url, { runnerRequestId }, 5_000, signal);
  }

  /** DELETE session (no session id: the token says which runner). */
  async deleteSession(signal?: AbortSignal): Promise<void> {
    await this.#call(
      "delete session",
      "DELETE",
      brokerUrl(this.#options.serverUrl, "session"),
      undefined,
      30_000,
      signal,
    );
  }
}

/** GET `{serverUrl}_apis/connectionData` (anonymous; the reference reads it once per session). */
export async function fetchConnectionData(
  serverUrl: string,
  fetchFn?: FetchFunction,
): Promise<Record<string, unknown>> {
  const url = brokerUrl(serverUrl, "_apis/connectionData", {
    connectOptions: "1",
    lastChangeId: "-1",
    lastChangeId64: "-1",
  });
  const answer = await httpCall(
    { method: "GET", url, headers: { accept: "application/json" }, timeoutMs: 60_000 },
    fetchFn,
  );
  if (!isSuccess(answer.status))
    throw new ActionsServiceError("connectionData", url, answer.status, answer.text);
  const json = parseJsonText(answer.text);
  return typeof json === "object" && json !== null ? (json as Record<string, unknown>) : {};
}

/** How a session failure should be retried (broker-backoff.ts). */
export function sessionFailureKind(error: unknown): "conflict" | "clock-skew" | "fatal" | "transient" {
  if (error instanceof RunnerRemovedError) return "fatal";
  if (error instanceof ActionsServiceError) {
    if (error.status === 409) return "conflict";
    // A 401 dropped the cached token: the next attempt exchanges a new one (a deleted runner
    // then fails the exchange with invalid_client, which is fatal).
    if (error.status === 403) return "fatal";
    return "transient";
  }
  if (error instanceof Error && error.message.includes("Current server time is")) return "clock-skew";
  return "transient";
}
