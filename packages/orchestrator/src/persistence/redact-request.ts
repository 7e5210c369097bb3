import {
  hasUrlCredentials,
  type JobRequest,
  redactUrlCredentials,
  stripUrlCredentials,
} from "@solstice/common";
import { DEBUG_SSH_KEY_ENV, debugSshKeysToStore } from "../service/debug-ssh-keys.ts";
import { redactPublicKeys } from "./key-material-filter.ts";

/** What replaces a secret value in the stored copy of a request (as in the job's log). */
export const REDACTED = "***";

/** A JobRequest made fit to store: no secret value, no URL credentials, no key, no `mask`. */
export interface RedactedRequest {
  /** The request as JSON, every occurrence of a `mask` value replaced by `***`, `mask` removed. */
  readonly stored: Record<string, unknown>;
  /** The repository URL to store: without credentials (`https://host/owner/repo`). */
  readonly repoUrl: string;
  /**
   * True when the request carried secrets (`mask` values, URL credentials): the stored copy
   * differs from what ran and cannot be re-run.
   */
  readonly hadSecrets: boolean;
}

/**
 * Removes secrets from a JobRequest before it is stored. The request's `mask` lists the secret
 * values its env and steps carry; each occurrence of one, in any string of the request, becomes
 * `***` (longest values first, so a secret that contains another is replaced whole). Credentials
 * in URLs are stripped from `repo_url` and replaced by `***` in every other string (the engine
 * clones with the request as it came, in memory). OpenSSH public keys (a debug SSH key in `env`)
 * are replaced too, as in stored log lines: no key is stored; an entry of `SOLSTICE_DEBUG_SSH_KEY`
 * that is no public key is dropped, a note saying so in its place.
 *
 * @example
 *   redactJobRequest({ ...req, env: { TOKEN: "s3cr3t" }, mask: ["s3cr3t"] }).stored.env
 *   // { TOKEN: "***" }
 */
export function redactJobRequest(request: JobRequest): RedactedRequest {
  const { mask, ...rest } = request;
  const secrets = [...new Set(mask ?? [])].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  const debugKeys = rest.env?.[DEBUG_SSH_KEY_ENV];
  const repoUrl = redactString(stripUrlCredentials(rest.repo_url), secrets);
  // SSH public keys (a debug SSH key in the env) are not secrets, but no key is stored (ADR-003).
  const stored = asRecord(
    redactValue(
      {
        ...rest,
        repo_url: repoUrl,
        ...(debugKeys === undefined
          ? {}
          : { env: { ...rest.env, [DEBUG_SSH_KEY_ENV]: debugSshKeysToStore(debugKeys) } }),
      },
      secrets,
    ),
  );
  const urlCredentials = hasUrlCredentials(JSON.stringify(rest));
  return { stored, repoUrl, hadSecrets: secrets.length > 0 || urlCredentials };
}

function redactValue(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === "string") return redactString(value, secrets);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, secrets));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[redactString(k, secrets)] = redactValue(v, secrets);
    return out;
  }
  return value;
}

function redactString(text: string, secrets: readonly string[]): string {
  let out = redactPublicKeys(text);
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return redactUrlCredentials(out);
}

function asRecord(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (value !== null && typeof value === "object" && !Array.isArray(value)) Object.assign(out, value);
  return out;
}
