import { GitHubUrlError } from "../errors.ts";

// Where the registration calls go, as the reference runner computes them from the URL the
// runner is registered to (RunnerDotcomServer, ConfigurationManager): github.com and GHE.com
// (hosted) at `{scheme}://api.{host}`, GHES at `{scheme}://{host}/api/v3`. The reference runner
// builds these from UriBuilder.Host and so drops a port; we keep a GHES port (a server behind
// `:8443` works, and so does a local test server) and drop it only for the hosted API host.

/** What a runner is registered to. */
export type RunnerScope =
  | { readonly kind: "repository"; readonly owner: string; readonly repo: string }
  | { readonly kind: "organization"; readonly org: string }
  | { readonly kind: "enterprise"; readonly enterprise: string };

/** A parsed GitHub URL. */
export interface GitHubTarget {
  /** The URL as given (it is also the `url` sent in registration bodies). */
  readonly url: string;
  readonly scheme: string;
  /** Without the port. */
  readonly host: string;
  /** `host:port` when the URL names a port, else the host. */
  readonly authority: string;
  /** github.com, www.github.com, github.localhost, *.ghe.com, *.ghe.localhost. */
  readonly hosted: boolean;
  readonly scope: RunnerScope;
}

/** Whether a host is GitHub's cloud (not a GHES server), as UrlUtil.IsHostedServer. */
export function isHostedGitHub(host: string): boolean {
  const h = host.toLowerCase();
  return (
    h === "github.com" ||
    h === "www.github.com" ||
    h === "github.localhost" ||
    h.endsWith(".ghe.localhost") ||
    h.endsWith(".ghe.com")
  );
}

/**
 * Parses `https://github.com/<owner>/<repo>`, `https://github.com/<org>` or
 * `https://github.com/enterprises/<name>`. Throws `GitHubUrlError`.
 */
export function parseGitHubUrl(url: string): GitHubTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GitHubUrlError(url, "not a URL");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new GitHubUrlError(url, "expected an http(s) URL");
  }
  const path = parsed.pathname.split(/[/\\]/).filter((p) => p !== "");
  let scope: RunnerScope;
  if (path.length === 1) scope = { kind: "organization", org: path[0]! };
  else if (path.length === 2 && path[0]!.toLowerCase() === "enterprises") {
    scope = { kind: "enterprise", enterprise: path[1]! };
  } else if (path.length === 2) scope = { kind: "repository", owner: path[0]!, repo: path[1]! };
  else throw new GitHubUrlError(url, "should point to a repository, an organization or an enterprise");
  return {
    url,
    scheme: parsed.protocol.slice(0, -1),
    host: parsed.hostname,
    authority: parsed.host,
    hosted: isHostedGitHub(parsed.hostname),
    scope,
  };
}

/** The REST API base: `https://api.github.com`, or `{scheme}://{host}/api/v3` for GHES. */
export function apiBaseUrl(target: GitHubTarget): string {
  return target.hosted
    ? `${target.scheme}://api.${target.host}`
    : `${target.scheme}://${target.authority}/api/v3`;
}

/** `repos/o/r`, `orgs/o` or `enterprises/e`. */
export function scopePath(scope: RunnerScope): string {
  switch (scope.kind) {
    case "repository":
      return `repos/${scope.owner}/${scope.repo}`;
    case "organization":
      return `orgs/${scope.org}`;
    case "enterprise":
      return `enterprises/${scope.enterprise}`;
  }
}

/** `{api}/{scope}/actions`: runner groups, runners, tokens, JIT configs live below it. */
export function actionsUrl(target: GitHubTarget): string {
  return `${apiBaseUrl(target)}/${scopePath(target.scope)}/actions`;
}

/** POST here with `RemoteAuth <token>` and `{url, runner_event}`. */
export function runnerRegistrationUrl(target: GitHubTarget): string {
  return `${apiBaseUrl(target)}/actions/runner-registration`;
}

/** POST here (v2) to add or replace the runner. */
export function registerRunnerUrl(target: GitHubTarget): string {
  return `${apiBaseUrl(target)}/actions/runners/register`;
}

/** Where a registration or remove token is created (with a PAT or an installation token). */
export function runnerTokenUrl(target: GitHubTarget, kind: "registration" | "remove"): string {
  return `${actionsUrl(target)}/runners/${kind}-token`;
}

/** `{scope}/actions/runner-groups`. */
export function runnerGroupsUrl(target: GitHubTarget): string {
  return `${actionsUrl(target)}/runner-groups`;
}

/** `{scope}/actions/runners?name=` (the name escaped). */
export function runnersByNameUrl(target: GitHubTarget, name: string): string {
  return `${actionsUrl(target)}/runners?name=${encodeURIComponent(name)}`;
}

/** `{scope}/actions/runners/{id}`. */
export function runnerUrl(target: GitHubTarget, runnerId: number): string {
  return `${actionsUrl(target)}/runners/${runnerId}`;
}

/** `{scope}/actions/runners/generate-jitconfig`. */
export function jitConfigUrl(target: GitHubTarget): string {
  return `${actionsUrl(target)}/runners/generate-jitconfig`;
}
