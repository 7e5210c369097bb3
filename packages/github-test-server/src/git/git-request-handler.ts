import type { IncomingMessage, ServerResponse } from "node:http";
import { parseGitPath, serveWithGitHttpBackend } from "@solstice/git-http-backend";
import { parseAuthorization } from "../auth/authorization-header.ts";
import { principalCovers } from "../rest/credential-store.ts";
import type { ServerContext } from "../server-context.ts";
import { decideGitAccess, type TokenReach } from "./git-access.ts";

/** Whether the request is git over HTTP for a repository path (`/{owner}/{name}(.git)/...`). */
export function isGitRequest(req: IncomingMessage): boolean {
  const url = new URL(req.url ?? "/", "http://localhost");
  return parseGitPath(url.pathname, url.searchParams) !== undefined;
}

/** Serves a git request (call only when `isGitRequest`); returns the status decided (0: streamed). */
export function handleGitRequest(req: IncomingMessage, res: ServerResponse, context: ServerContext): void {
  const url = new URL(req.url ?? "/", "http://localhost");
  const path = parseGitPath(url.pathname, url.searchParams);
  if (path === undefined) return;
  const repository = context.repositories.get(`${path.owner}/${path.name}`);
  const reachOf = (token: string): TokenReach => {
    const check = context.tokens.check(token);
    if (check.ok) {
      if (check.subject.kind !== "job") return "none";
      const job = context.jobs.get(check.subject.jobId);
      if (job?.status !== "running") return "unknown";
      return job.repository.toLowerCase() === repository?.fullName.toLowerCase() ? "read" : "none";
    }
    const principal = context.credentials.principalOf(token);
    if (principal === undefined) return "unknown";
    return repository !== undefined && principalCovers(principal, `repos/${repository.fullName}`)
      ? "read"
      : "none";
  };
  const credentials = parseAuthorization(req.headers.authorization);
  const decision = decideGitAccess({
    repository: repository?.gitDir === undefined ? undefined : repository,
    push: path.push,
    token: credentials?.scheme === "remoteauth" ? undefined : credentials?.value,
    reachOf,
  });
  if (!decision.allow || repository?.gitDir === undefined) {
    const status = decision.allow ? 404 : decision.status;
    const headers: Record<string, string> = { "content-type": "text/plain; charset=utf-8" };
    if (status === 401) headers["www-authenticate"] = 'Basic realm="GitHub"';
    req.resume();
    res.writeHead(status, headers).end(`${decision.allow ? "Repository not found." : decision.message}\n`);
    return;
  }
  serveWithGitHttpBackend(req, res, {
    gitDir: repository.gitDir,
    rest: path.rest,
    query: url.search.slice(1),
  });
}
