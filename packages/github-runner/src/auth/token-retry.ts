// A call refused with 401 is made again at once with a freshly exchanged access token, at most
// three times, as the reference runner's VssHttpMessageHandler does (its m_maxAuthRetries): an
// access token GitHub expired or revoked early costs one token exchange, not the 15–30 s backoff
// of a failed poll. A runner removed on GitHub fails the exchange itself (invalid_client), which
// the caller sees as RunnerRemovedError.

/** Retries after a 401, each with a new token (VssHttpMessageHandler's m_maxAuthRetries). */
export const MAX_AUTH_RETRIES = 3;

/** Supplies the runner's access token (AccessTokenProvider). */
export interface TokenSource {
  token(signal?: AbortSignal): Promise<string>;
  invalidate(token?: string): void;
}

/** How one try ended: an answer, or an error thrown. */
export type TokenCallOutcome<T> = { readonly answer: T } | { readonly error: unknown };

/**
 * Makes `call` with the current token; when `unauthorized` says the outcome was a 401, drops that
 * token and calls again with a new one, up to {@link MAX_AUTH_RETRIES} times. The last outcome is
 * returned (or thrown) as it was.
 */
export async function withTokenRetries<T>(
  tokens: TokenSource,
  signal: AbortSignal | undefined,
  call: (token: string) => Promise<T>,
  unauthorized: (outcome: TokenCallOutcome<T>) => boolean,
): Promise<T> {
  for (let retry = 0; ; retry += 1) {
    const token = await tokens.token(signal);
    let outcome: TokenCallOutcome<T>;
    try {
      outcome = { answer: await call(token) };
    } catch (error) {
      outcome = { error };
    }
    const refused = unauthorized(outcome);
    if (refused) tokens.invalidate(token);
    if (!refused || retry >= MAX_AUTH_RETRIES || signal?.aborted === true) {
      if ("error" in outcome) throw outcome.error;
      return outcome.answer;
    }
  }
}
