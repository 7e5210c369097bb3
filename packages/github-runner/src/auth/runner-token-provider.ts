import type { FetchFunction } from "../http/http-call.ts";
import type { RunnerConfiguration } from "../settings/runner-files.ts";
import { authorizationUrls } from "../settings/runner-settings.ts";
import { AccessTokenProvider } from "./access-token.ts";

/** The access token provider of a configured runner: its `.credentials` and key. */
export function runnerTokenProvider(
  config: RunnerConfiguration,
  fetchFn?: FetchFunction,
): AccessTokenProvider {
  const urls = authorizationUrls(config.credentials);
  return new AccessTokenProvider({
    clientId: config.credentials.data.clientId,
    authorizationUrl: urls.primary,
    ...(urls.fallback === undefined ? {} : { fallbackAuthorizationUrl: urls.fallback }),
    key: config.key,
    // RS256 only for servers that predate FIPS-compatible signatures.
    algorithm: config.credentials.data.requireFipsCryptography ? "PS256" : "RS256",
    ...(fetchFn === undefined ? {} : { fetch: fetchFn }),
  });
}
