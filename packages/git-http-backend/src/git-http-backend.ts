import { spawn } from "node:child_process";
import type { IncomingMessage, ServerResponse } from "node:http";
import { basename, dirname } from "node:path";
import { parseCgiHead } from "./cgi-response.ts";

// Serves one git HTTP request by running `git http-backend` as a CGI program: the request body
// streams to its stdin (gzip and all: the backend inflates it when told the encoding), its stdout
// streams back after the CGI head is turned into the HTTP status and headers. The repository's
// git directory is addressed as GIT_PROJECT_ROOT=<its parent> + PATH_INFO=/<its name>/<rest>,
// so repositories can live anywhere.

/** Which repository, and git's part of the path. */
export interface GitBackendRequest {
  /** The repository's git directory (absolute). */
  readonly gitDir: string;
  /** E.g. `info/refs`, `git-upload-pack`. */
  readonly rest: string;
  readonly query: string;
}

/** Runs `git http-backend` for the request and streams its answer. */
export function serveWithGitHttpBackend(
  req: IncomingMessage,
  res: ServerResponse,
  target: GitBackendRequest,
): void {
  const header = (name: string): string => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(", ") : (value ?? "");
  };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_PROJECT_ROOT: dirname(target.gitDir),
    PATH_INFO: `/${basename(target.gitDir)}/${target.rest}`,
    GIT_HTTP_EXPORT_ALL: "1",
    REQUEST_METHOD: req.method ?? "GET",
    QUERY_STRING: target.query,
    CONTENT_TYPE: header("content-type"),
    HTTP_CONTENT_ENCODING: header("content-encoding"),
    GIT_PROTOCOL: header("git-protocol"),
    REMOTE_ADDR: req.socket.remoteAddress ?? "",
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    // Test repositories may belong to another user than the server's.
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "safe.directory",
    GIT_CONFIG_VALUE_0: "*",
  };
  const length = header("content-length");
  if (length !== "") env.CONTENT_LENGTH = length;

  const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] });
  let head = Buffer.alloc(0);
  let headSent = false;
  let stderr = "";

  const fail = (message: string): void => {
    if (headSent || res.headersSent) {
      res.destroy();
      return;
    }
    headSent = true;
    res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end(`${message}\n`);
  };

  child.on("error", (error) => fail(`cannot run git http-backend: ${error.message}`));
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    if (stderr.length < 4096) stderr += chunk;
  });
  child.stdout.on("data", (chunk: Buffer) => {
    if (headSent) {
      if (!res.write(chunk)) {
        child.stdout.pause();
        res.once("drain", () => child.stdout.resume());
      }
      return;
    }
    head = Buffer.concat([head, chunk]);
    const parsed = parseCgiHead(head);
    if (parsed === undefined) return;
    headSent = true;
    res.statusCode = parsed.status;
    for (const [name, value] of parsed.headers) res.setHeader(name, value);
    const body = head.subarray(parsed.bodyStart);
    if (body.length > 0) res.write(body);
  });
  child.stdout.on("end", () => {
    if (headSent) res.end();
    else fail(`git http-backend gave no answer: ${stderr.trim()}`);
  });

  req.pipe(child.stdin);
  child.stdin.on("error", () => {
    // The backend may stop reading early (e.g. it refused the request): its answer says why.
  });
  res.on("close", () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  });
}
