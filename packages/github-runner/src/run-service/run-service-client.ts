import { setTimeout as sleep } from "node:timers/promises";
import { type TokenSource, withTokenRetries } from "../auth/token-retry.ts";
import { brokerUrl } from "../broker/broker-client.ts";
import { GitHubResponseError } from "../errors.ts";
import { type FetchFunction, httpCall, isSuccess, parseJsonText } from "../http/http-call.ts";
import { type AgentJobRequestMessage, parseJobMessage } from "../job/job-message.ts";
import {
  acquireJobBody,
  type CompleteJobInput,
  completeJobBody,
  isFinalCompleteError,
  parseLockedUntil,
  RenewJobResponseSchema,
  renewJobBody,
  runServiceError,
} from "./run-service-api.ts";

// The run service's calls. acquirejob goes to the message's run_service_url with the runner's
// token; renewjob and completejob go to the job's SystemVssConnection URL with the JOB's access
// token (from the job message), never the runner's.

/** Where a job's own calls go, from its SystemVssConnection. */
export interface JobConnection {
  readonly url: string;
  readonly accessToken: string;
}

async function post(
  what: string,
  url: string,
  token: string,
  body: object,
  fetchFn: FetchFunction | undefined,
  signal?: AbortSignal,
): Promise<string> {
  const answer = await httpCall(
    {
      method: "POST",
      url,
      headers: { authorization: `Bearer ${token}`, accept: "application/json" },
      body,
      timeoutMs: 100_000,
      ...(signal === undefined ? {} : { signal }),
    },
    fetchFn,
  );
  if (!isSuccess(answer.status)) throw runServiceError(what, url, answer.status, answer.text);
  return answer.text;
}

/**
 * POST acquirejob: the job message. Failures are `ActionsServiceError`s; `acquireFailure` says
 * whether to skip the message (404/409/422 in the body's statusCode).
 */
export async function acquireJob(options: {
  readonly runServiceUrl: string;
  readonly runnerRequestId: string;
  /** `Linux`… */
  readonly runnerOS: string;
  readonly billingOwnerId?: string;
  readonly tokens: TokenSource;
  readonly fetch?: FetchFunction;
  readonly signal?: AbortSignal;
}): Promise<AgentJobRequestMessage> {
  const url = brokerUrl(options.runServiceUrl, "acquirejob");
  const text = await withTokenRetries(
    options.tokens,
    options.signal,
    (token) =>
      post(
        "acquirejob",
        url,
        token,
        acquireJobBody(options.runnerRequestId, options.runnerOS, options.billingOwnerId),
        options.fetch,
        options.signal,
      ),
    (outcome) => "error" in outcome && (outcome.error as { status?: number }).status === 401,
  );
  return parseJobMessage(parseJsonText(text));
}

/** POST renewjob: the new `lockedUntil` (ms). */
export async function renewJob(
  connection: JobConnection,
  planId: string,
  jobId: string,
  options: { fetch?: FetchFunction; signal?: AbortSignal } = {},
): Promise<number> {
  const url = brokerUrl(connection.url, "renewjob");
  const text = await post(
    "renewjob",
    url,
    connection.accessToken,
    renewJobBody(planId, jobId),
    options.fetch,
    options.signal,
  );
  const parsed = RenewJobResponseSchema.safeParse(parseJsonText(text));
  if (!parsed.success)
    throw new GitHubResponseError("renewjob", parsed.error.issues[0]?.message ?? "invalid");
  return parseLockedUntil(parsed.data.lockedUntil);
}

/** POST completejob once. */
export async function completeJob(
  connection: JobConnection,
  input: CompleteJobInput,
  options: { fetch?: FetchFunction; signal?: AbortSignal } = {},
): Promise<void> {
  const url = brokerUrl(connection.url, "completejob");
  await post(
    "completejob",
    url,
    connection.accessToken,
    completeJobBody(input),
    options.fetch,
    options.signal,
  );
}

/**
 * completejob with the reference runner's retries: five attempts five seconds apart, stopping
 * at once on a 401 or a 404. Throws the last error.
 */
export async function completeJobWithRetries(
  connection: JobConnection,
  input: CompleteJobInput,
  options: {
    fetch?: FetchFunction;
    attempts?: number;
    delayMs?: number;
    onError?: (error: unknown) => void;
  } = {},
): Promise<void> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      await completeJob(connection, input, options.fetch === undefined ? {} : { fetch: options.fetch });
      return;
    } catch (error) {
      options.onError?.(error);
      if (attempt >= attempts || isFinalCompleteError(error)) throw error;
      await sleep(options.delayMs ?? 5000);
    }
  }
}
