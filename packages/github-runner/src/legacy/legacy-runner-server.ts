import { type TokenSource, withTokenRetries } from "../auth/token-retry.ts";
import { ActionsServiceError, GitHubResponseError, RunnerRemovedError } from "../errors.ts";
import { type FetchFunction, parseJsonText } from "../http/http-call.ts";
import { type JobConclusionName, parseLockedUntil } from "../run-service/run-service-api.ts";
import {
  JobRequestAnswerSchema,
  jobRequestBody,
  type LegacyMessage,
  LegacyMessageSchema,
  type LegacySession,
  LegacySessionSchema,
} from "./legacy-api.ts";
import {
  jobRequestUrl,
  LegacyApiVersions,
  type LegacyPollQuery,
  messagesUrl,
  messageUrl,
  sessionsUrl,
} from "./legacy-urls.ts";
import { vssCall } from "./vss-call.ts";

// The runner's own legacy calls (the reference runner's RunnerServer over TaskAgentHttpClient),
// with its OAuth access token, at the tenant URL of `.runner`: its session, the message long
// poll and deletes, and its job requests' renewals and finish. A 401 is retried at once with a
// newly exchanged token (auth/token-retry.ts); a 404 naming the agent means it was removed.

/** Options of {@link LegacyRunnerServer}. */
export interface LegacyRunnerServerOptions {
  /** `.runner` serverUrl. */
  readonly tenantUrl: string;
  readonly poolId: number;
  readonly tokens: TokenSource;
  readonly fetch?: FetchFunction;
}

/** What POST sessions sends (TaskAgentSession). */
export interface LegacySessionRequest {
  readonly ownerName: string;
  readonly agent: {
    readonly id: number;
    readonly name: string;
    readonly version: string;
    readonly osDescription: string;
  };
}

/** The legacy calls of one runner. */
export class LegacyRunnerServer {
  readonly #options: LegacyRunnerServerOptions;

  constructor(options: LegacyRunnerServerOptions) {
    this.#options = options;
  }

  async #call(
    what: string,
    method: "GET" | "POST" | "PATCH" | "DELETE",
    url: string,
    apiVersion: string,
    options: { body?: object; timeoutMs?: number; signal?: AbortSignal | undefined } = {},
  ): Promise<string> {
    try {
      return await withTokenRetries(
        this.#options.tokens,
        options.signal,
        (token) =>
          vssCall(
            {
              what,
              method,
              url,
              token,
              apiVersion,
              ...(options.body === undefined ? {} : { body: options.body }),
              ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
              ...(options.signal === undefined ? {} : { signal: options.signal }),
            },
            this.#options.fetch,
          ),
        (outcome) =>
          "error" in outcome && outcome.error instanceof ActionsServiceError && outcome.error.status === 401,
      );
    } catch (error) {
      if (
        error instanceof ActionsServiceError &&
        error.status === 404 &&
        error.errorKind === "TaskAgentNotFoundException"
      ) {
        throw new RunnerRemovedError(`${what}: the agent was not found`, { cause: error });
      }
      throw error;
    }
  }

  /** POST sessions: a session with its encryption key. A 409 is a conflict (another session lives). */
  async createSession(request: LegacySessionRequest, signal?: AbortSignal): Promise<LegacySession> {
    const { tenantUrl, poolId } = this.#options;
    const text = await this.#call(
      "create session",
      "POST",
      sessionsUrl(tenantUrl, poolId),
      LegacyApiVersions.sessions,
      {
        // The reference runner sends the empty session id and useFipsEncryption false: the
        // server then wraps the session key with SHA-1 OAEP.
        body: {
          sessionId: "00000000-0000-0000-0000-000000000000",
          ownerName: request.ownerName,
          agent: request.agent,
          useFipsEncryption: false,
        },
        timeoutMs: 60_000,
        signal,
      },
    );
    const parsed = LegacySessionSchema.safeParse(parseJsonText(text));
    if (!parsed.success)
      throw new GitHubResponseError("create session", parsed.error.issues[0]?.message ?? "invalid");
    return parsed.data;
  }

  /** DELETE sessions/{sessionId}. */
  async deleteSession(sessionId: string, signal?: AbortSignal): Promise<void> {
    const { tenantUrl, poolId } = this.#options;
    await this.#call(
      "delete session",
      "DELETE",
      sessionsUrl(tenantUrl, poolId, sessionId),
      LegacyApiVersions.sessions,
      { timeoutMs: 30_000, signal },
    );
  }

  /** GET messages (a long poll of about 50 s): the message, still encrypted; undefined when idle. */
  async getMessage(poll: LegacyPollQuery, signal?: AbortSignal): Promise<LegacyMessage | undefined> {
    const { tenantUrl, poolId } = this.#options;
    const text = await this.#call(
      "get message",
      "GET",
      messagesUrl(tenantUrl, poolId, poll),
      LegacyApiVersions.getMessage,
      { timeoutMs: 100_000, signal },
    );
    const json = parseJsonText(text);
    if (json === undefined || json === null) return undefined;
    const parsed = LegacyMessageSchema.safeParse(json);
    if (!parsed.success)
      throw new GitHubResponseError("get message", parsed.error.issues[0]?.message ?? "invalid");
    return parsed.data;
  }

  /** DELETE messages/{messageId}?sessionId: the message was handled. */
  async deleteMessage(messageId: number, sessionId: string, signal?: AbortSignal): Promise<void> {
    const { tenantUrl, poolId } = this.#options;
    await this.#call(
      "delete message",
      "DELETE",
      messageUrl(tenantUrl, poolId, messageId, sessionId),
      LegacyApiVersions.deleteMessage,
      { timeoutMs: 30_000, signal },
    );
  }

  /** PATCH jobrequests/{requestId} (RenewAgentRequest): the new `lockedUntil` (ms). */
  async renewRequest(requestId: number, signal?: AbortSignal): Promise<number> {
    const { tenantUrl, poolId } = this.#options;
    const text = await this.#call(
      "renew job request",
      "PATCH",
      jobRequestUrl(tenantUrl, poolId, requestId),
      LegacyApiVersions.jobRequests,
      { body: jobRequestBody(requestId), timeoutMs: 60_000, signal },
    );
    const parsed = JobRequestAnswerSchema.safeParse(parseJsonText(text));
    const lockedUntil = parsed.success ? parsed.data.lockedUntil : undefined;
    if (lockedUntil === undefined || lockedUntil === null)
      throw new GitHubResponseError("renew job request", "the answer has no lockedUntil");
    return parseLockedUntil(lockedUntil);
  }

  /** PATCH jobrequests/{requestId} (FinishAgentRequest): plans before version 8 complete this way. */
  async finishRequest(requestId: number, result: JobConclusionName, signal?: AbortSignal): Promise<void> {
    const { tenantUrl, poolId } = this.#options;
    await this.#call(
      "finish job request",
      "PATCH",
      jobRequestUrl(tenantUrl, poolId, requestId),
      LegacyApiVersions.jobRequests,
      { body: jobRequestBody(requestId, { result, finishTime: new Date() }), timeoutMs: 60_000, signal },
    );
  }
}
