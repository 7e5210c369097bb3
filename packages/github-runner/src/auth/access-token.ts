import type { KeyObject } from "node:crypto";
import { z } from "zod";
import { GitHubResponseError, RunnerRemovedError, TokenExchangeError } from "../errors.ts";
import { type FetchFunction, httpCall, parseJsonText } from "../http/http-call.ts";
import { type AssertionAlgorithm, createClientAssertion } from "./client-assertion.ts";

// The runner's access token: a client-credentials exchange at the credentials'
// `authorizationUrl`, authenticated by a freshly signed JWT each time (VssOAuthTokenHttpClient).
// The token is cached and renewed a minute before `expires_in` runs out, and at once after any
// 401 of a call that used it. An `invalid_client` error means GitHub deleted the runner: that
// becomes `RunnerRemovedError`, which the daemon treats as final.

/** The `client_assertion_type` of a JWT bearer assertion. */
export const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** A successful token answer. */
export const TokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number().nonnegative().optional(),
  scope: z.string().optional(),
});

/** An OAuth error answer (HTTP 400/401 with JSON). */
export const TokenErrorSchema = z.object({
  error: z.string(),
  error_description: z.string().optional(),
});

/** A token and when it stops being used (ms since the epoch). */
export interface AccessToken {
  readonly token: string;
  readonly refreshAt: number;
}

/** The form body of a token request. */
export function tokenRequestForm(assertion: string): URLSearchParams {
  return new URLSearchParams({
    grant_type: "client_credentials",
    client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    client_assertion: assertion,
  });
}

/** Refresh a minute before expiry (never sooner than half the lifetime); GitHub gives about an hour. */
export function refreshTime(now: number, expiresInSeconds: number | undefined): number {
  const lifetime = (expiresInSeconds ?? 3600) * 1000;
  return now + Math.max(lifetime / 2, lifetime - 60_000);
}

/**
 * The token answer → the token, or the error to throw: `RunnerRemovedError` for
 * `invalid_client`, else `TokenExchangeError`.
 */
export function parseTokenAnswer(status: number, text: string, now: number): AccessToken {
  const json = parseJsonText(text);
  if (status === 200) {
    const parsed = TokenResponseSchema.safeParse(json);
    if (!parsed.success) {
      throw new GitHubResponseError("token exchange", parsed.error.issues[0]?.message ?? "not a token");
    }
    return { token: parsed.data.access_token, refreshAt: refreshTime(now, parsed.data.expires_in) };
  }
  const error = TokenErrorSchema.safeParse(json);
  if (error.success) {
    const detail = `${error.data.error}${error.data.error_description === undefined ? "" : `: ${error.data.error_description}`}`;
    if (error.data.error.toLowerCase() === "invalid_client") throw new RunnerRemovedError(detail);
    throw new TokenExchangeError(status, detail, error.data.error);
  }
  throw new TokenExchangeError(status, text.slice(0, 300));
}

/** What the provider needs: the `.credentials` data and the key. */
export interface AccessTokenProviderOptions {
  readonly clientId: string;
  /** Where to exchange; `authorizationUrlV2` of the credentials when present, else `authorizationUrl`. */
  readonly authorizationUrl: string;
  /** Tried when `authorizationUrl` fails for another reason than a removed runner. */
  readonly fallbackAuthorizationUrl?: string;
  readonly key: KeyObject;
  /** PS256 when the credentials say `requireFipsCryptography` (the v2 default). */
  readonly algorithm: AssertionAlgorithm;
  readonly fetch?: FetchFunction;
  readonly now?: () => number;
  readonly timeoutMs?: number;
}

/** Gives the runner's current access token, exchanging a new one when needed. */
export class AccessTokenProvider {
  readonly #options: AccessTokenProviderOptions;
  #current: AccessToken | undefined;
  #pending: Promise<AccessToken> | undefined;

  constructor(options: AccessTokenProviderOptions) {
    this.#options = options;
  }

  /** The token to use now (cached until shortly before it expires). */
  async token(signal?: AbortSignal): Promise<string> {
    const now = (this.#options.now ?? Date.now)();
    if (this.#current !== undefined && now < this.#current.refreshAt) return this.#current.token;
    this.#pending ??= this.#exchange(signal).finally(() => {
      this.#pending = undefined;
    });
    this.#current = await this.#pending;
    return this.#current.token;
  }

  /** A call answered 401 with this token: forget it (the next `token()` exchanges anew). */
  invalidate(token?: string): void {
    if (token === undefined || this.#current?.token === token) this.#current = undefined;
  }

  async #exchange(signal: AbortSignal | undefined): Promise<AccessToken> {
    const urls = [this.#options.authorizationUrl, this.#options.fallbackAuthorizationUrl].filter(
      (u): u is string => u !== undefined && u !== "",
    );
    let last: unknown;
    for (const url of urls) {
      try {
        return await this.#exchangeAt(url, signal);
      } catch (error) {
        if (error instanceof RunnerRemovedError) throw error;
        last = error;
      }
    }
    throw last;
  }

  async #exchangeAt(url: string, signal: AbortSignal | undefined): Promise<AccessToken> {
    const now = (this.#options.now ?? Date.now)();
    const assertion = createClientAssertion({
      clientId: this.#options.clientId,
      authorizationUrl: url,
      key: this.#options.key,
      algorithm: this.#options.algorithm,
      now,
    });
    const answer = await httpCall(
      {
        method: "POST",
        url,
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: tokenRequestForm(assertion).toString(),
        timeoutMs: this.#options.timeoutMs ?? 60_000,
        ...(signal === undefined ? {} : { signal }),
      },
      this.#options.fetch,
    );
    return parseTokenAnswer(answer.status, answer.text, now);
  }
}
