import type { IncomingMessage, ServerResponse } from "node:http";
import { parseGitPath, serveWithGitHttpBackend } from "@solstice/git-http-backend";
import type { RepositoryRegistry } from "../repositories/repository-registry.ts";
import type { TaskStore } from "../tasks/task-store.ts";
import { basicAuthToken } from "./basic-auth.ts";
import { decideGitAccess } from "./git-access.ts";

/**
 * Serves the request if it is git over HTTP for a repository path (`/{owner}/{name}(.git)/...`);
 * returns false, touching nothing, when the path is not git's.
 */
export function handleGitRequest(
  req: IncomingMessage,
  res: ServerResponse,
  deps: { readonly repositories: RepositoryRegistry; readonly tasks: TaskStore },
): boolean {
  const url = new URL(req.url ?? "/", "http://localhost");
  const path = parseGitPath(url.pathname, url.searchParams);
  if (path === undefined) return false;
  const fullName = `${path.owner}/${path.name}`;
  const repository = deps.repositories.served(fullName);
  const decision = decideGitAccess({
    repository,
    push: path.push,
    token: basicAuthToken(req.headers.authorization),
    taskRepositoryOf: (token) => deps.tasks.runningTaskByToken(token)?.repository,
  });
  if (!decision.allow || repository === undefined) {
    const status = decision.allow ? 404 : decision.status;
    const headers: Record<string, string> = { "content-type": "text/plain; charset=utf-8" };
    if (status === 401) headers["www-authenticate"] = 'Basic realm="."';
    req.resume();
    res.writeHead(status, headers).end(`${decision.allow ? "Repository not found" : decision.message}\n`);
    return true;
  }
  serveWithGitHttpBackend(req, res, {
    gitDir: repository.gitDir,
    rest: path.rest,
    query: url.search.slice(1),
  });
  return true;
}
