import type { JobConclusion, JobRequest } from "@solstice/common";

/** A VM kept for debug SSH (ADR-003). */
export interface DebugHold {
  readonly requestId: string;
  /** The project it belongs to (see `projectKey`): at most one hold per project. */
  readonly project: string;
  readonly vmName: string;
  /** When it is force-destroyed; never extended. */
  readonly expiresAt: Date;
}

/** What `decideDebugHold` concluded. */
export type DebugHoldDecision =
  | { readonly keep: true; readonly expiresAt: Date }
  | {
      readonly keep: false;
      /** For the job's log when the job opted in but is not kept; undefined when it did not opt in. */
      readonly logLine: string | undefined;
    };

/**
 * The project a repository URL names, for the one-hold-per-project rule: scheme, user and
 * password, a trailing `.git` and `/`, and letter case are ignored, so `https://Code.example.org/acme/app.git`
 * and `ssh://git@code.example.org/acme/app` are the same project.
 */
export function projectKey(repoUrl: string): string {
  let rest = repoUrl.trim();
  // scp-like git@host:owner/repo
  const scp = /^[^@/:]+@([^:/]+):(.+)$/.exec(rest);
  if (scp !== null) rest = `${scp[1]}/${scp[2]}`;
  else rest = rest.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/^[^@/]*@/, "");
  rest = rest
    .replace(/\/+$/, "")
    .replace(/\.git$/i, "")
    .replace(/\/+$/, "");
  // Drop an explicit port: the same project is reachable over several protocols.
  rest = rest.replace(/^([^/]+):\d+\//, "$1/");
  return rest.toLowerCase();
}

/**
 * Decides whether a finished job's VM is kept for debug SSH (ADR-003): only when the job asked
 * (`debug_ssh`), failed (not cancelled, not succeeded), and no other VM of the same project is
 * held on this host. A kept VM lives `ttlSecs` from now, not renewable. Pure.
 *
 * @example
 *   decideDebugHold({ request, conclusion: "failure", holds: [], now: new Date(), ttlSecs: 1800 })
 *   // { keep: true, expiresAt: <now + 30 min> }
 */
export function decideDebugHold(input: {
  readonly request: Pick<JobRequest, "request_id" | "repo_url" | "debug_ssh">;
  readonly conclusion: JobConclusion;
  readonly holds: readonly DebugHold[];
  readonly now: Date;
  readonly ttlSecs: number;
}): DebugHoldDecision {
  if (input.request.debug_ssh !== true) return { keep: false, logLine: undefined };
  if (input.conclusion !== "failure") return { keep: false, logLine: undefined };
  const project = projectKey(input.request.repo_url);
  const other = input.holds.find((h) => h.project === project && h.requestId !== input.request.request_id);
  if (other !== undefined) {
    return {
      keep: false,
      logLine:
        `Debug SSH: not kept: a debug session for this project is already open (job ${other.requestId}, ` +
        `until ${other.expiresAt.toISOString()}); at most one per project. The VM is destroyed.`,
    };
  }
  return { keep: true, expiresAt: new Date(input.now.getTime() + input.ttlSecs * 1000) };
}

/**
 * How long a VM is kept, for people: exact, in minutes and seconds (a 90 s TTL is not "2 min").
 *
 * @example
 *   formatKeepDuration(90)   // "1 min 30 s"
 *   formatKeepDuration(1800) // "30 min"
 */
export function formatKeepDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(total / 60);
  const rest = total % 60;
  if (minutes === 0) return `${rest} s`;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}

/**
 * The line written into the job's log for a kept VM: where to connect, as whom, until when.
 * `keyNote` says which key works (e.g. "with the key printed above").
 */
export function debugSshLine(fields: {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly expiresAt: Date;
  readonly keyNote?: string | undefined;
  /** `ssh -J` jump host (`user@host`) through which `host` is reached, when there is one. */
  readonly jump?: string | undefined;
}): string {
  const key = fields.keyNote === undefined ? "" : ` ${fields.keyNote}`;
  const jump = fields.jump === undefined ? "" : `-J ${fields.jump} `;
  return (
    `Debug SSH: ssh ${jump}-p ${fields.port} ${fields.user}@${fields.host}${key}` +
    ` — available until ${fields.expiresAt.toISOString()} (not renewable), then the VM is destroyed.`
  );
}
