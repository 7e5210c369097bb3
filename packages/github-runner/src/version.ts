import { readFileSync } from "node:fs";

/** This package's version (sent as the runner's user agent). */
export const PACKAGE_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/**
 * The actions/runner version this runner announces to GitHub (`version` at registration,
 * `runnerVersion` on the broker). GitHub refuses runners older than its minimum
 * (RunnerVersionTooOld), so this tracks a current release; `disableUpdate` is always sent true
 * because Solstice CI cannot apply GitHub's self-update.
 */
export const RUNNER_PROTOCOL_VERSION = "2.329.0";

/** The `user-agent` of calls to GitHub. */
export function userAgent(): string {
  return `GitHubActionsRunner-solstice/${RUNNER_PROTOCOL_VERSION} solstice-github-runner/${PACKAGE_VERSION} (node ${process.versions.node})`;
}
