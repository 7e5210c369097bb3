import type { Env, JobRequest, MessageIssue } from "@solstice/common";
import { capIssues } from "./intake-limits.ts";

// Checks of a job request that the VM would otherwise make only after it booted: the commit id
// the workspace script fetches and the variable names the step scripts export. The message
// schema (common's JobRequestSchema) keeps the original's looser types (any non-empty string,
// any name); this host refuses at intake what it could never run. Pure: JobIntake does the I/O.

/**
 * A commit id the engine can check out: hexadecimal, a full SHA-1 (40) or SHA-256 (64) id, or an
 * abbreviation of at least 4 digits (`ciadm trigger --sha 3f78685`; the workspace script then
 * fetches the branches and tags and checks the abbreviation out). Same rule as the engine's
 * workspace script, so nothing it would refuse passes here.
 */
export const COMMIT_ID = /^[0-9a-fA-F]{4,64}$/;

/** A name a POSIX shell can export: what the engine writes as `NAME='value'; export NAME`. */
export const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Problems with the request's commit id and variable names, each naming its field; empty when
 * there are none. Values are never quoted back (a misplaced value may be a secret); names are.
 *
 * @example
 *   formatIssues({ ...request, commit_sha: "main", env: { "MY-VAR": "1" } });
 *   // [{ path: "commit_sha", message: "expected a commit id: 4 to 64 hexadecimal digits ..." },
 *   //  { path: "env", message: "\"MY-VAR\" is not a valid shell variable name ..." }]
 */
export function formatIssues(request: JobRequest): MessageIssue[] {
  const issues: MessageIssue[] = [];
  if (!COMMIT_ID.test(request.commit_sha)) {
    issues.push({
      path: "commit_sha",
      message: `expected a commit id: 4 to 64 hexadecimal digits (a full SHA-1 or SHA-256 id, or an abbreviation), got ${describe(request.commit_sha)}`,
    });
  }
  issues.push(...envNameIssues("env", request.env));
  for (const [index, step] of (request.steps ?? []).entries()) {
    issues.push(...envNameIssues(`steps[${index}].env`, step.env));
  }
  return capIssues(issues);
}

function envNameIssues(path: string, env: Env | undefined): MessageIssue[] {
  if (env === undefined) return [];
  const issues: MessageIssue[] = [];
  for (const name of Object.keys(env)) {
    if (SHELL_NAME.test(name)) continue;
    issues.push({
      path,
      message: `${JSON.stringify(shorten(name))} is not a valid shell variable name (letters, digits and _, not starting with a digit)`,
    });
  }
  return issues;
}

// A commit id is not a secret, but a misplaced value could be: say what it looks like only.
function describe(value: string): string {
  return `${value.length} characters${/[^0-9a-fA-F]/.test(value) ? " with some that are not hexadecimal" : ""}`;
}

function shorten(name: string): string {
  return name.length > 64 ? `${name.slice(0, 61)}...` : name;
}
