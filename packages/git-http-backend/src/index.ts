// Public API of @solstice/git-http-backend: git's smart HTTP protocol served by `git http-backend`,
// for the forges' protocol test servers.
export { type CgiHead, parseCgiHead } from "./cgi-response.ts";
export { type GitBackendRequest, serveWithGitHttpBackend } from "./git-http-backend.ts";
export { type GitPath, parseGitPath } from "./git-path.ts";
