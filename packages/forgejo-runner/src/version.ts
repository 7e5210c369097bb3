import { readFileSync } from "node:fs";

/** This runner's version, as Register and Declare send it. */
export const RUNNER_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** The `user-agent` of its calls to Forgejo. */
export function userAgent(): string {
  return `solstice-forgejo-runner/${RUNNER_VERSION} (node ${process.versions.node})`;
}
