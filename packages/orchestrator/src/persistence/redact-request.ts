import type { JobRequest } from "@solstice/common";
import { redactPublicKeys } from "./key-material-filter.ts";

/** What replaces a secret value in the stored copy of a request (as in the job's log). */
export const REDACTED = "***";

/** A JobRequest made fit to store: no secret value, no `mask`. */
export interface RedactedRequest {
  /** The request as JSON, every occurrence of a `mask` value replaced by `***`, `mask` removed. */
  readonly stored: Record<string, unknown>;
  /** True when the request named secrets: the stored copy differs from what ran and cannot be re-run. */
  readonly hadSecrets: boolean;
}

/**
 * Removes secrets from a JobRequest before it is stored. The request's `mask` lists the secret
 * values its env and steps carry; each occurrence of one, in any string of the request, becomes
 * `***` (longest values first, so a secret that contains another is replaced whole). OpenSSH public
 * keys (a debug SSH key in `env`) are replaced too, as in stored log lines: no key is stored.
 *
 * @example
 *   redactJobRequest({ ...req, env: { TOKEN: "s3cr3t" }, mask: ["s3cr3t"] }).stored.env
 *   // { TOKEN: "***" }
 */
export function redactJobRequest(request: JobRequest): RedactedRequest {
  const { mask, ...rest } = request;
  const secrets = [...new Set(mask ?? [])].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  // SSH public keys (a debug SSH key in the env) are not secrets, but no key is stored (ADR-003).
  const stored = redactValue(rest, secrets);
  return { stored: asRecord(stored), hadSecrets: secrets.length > 0 };
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
  return out;
}

function asRecord(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (value !== null && typeof value === "object" && !Array.isArray(value)) Object.assign(out, value);
  return out;
}
