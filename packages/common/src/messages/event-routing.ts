import type { JobOwner } from "./job-request.ts";

/** The prefix of every job-event routing key. */
export const JOB_EVENT_ROUTING_PREFIX = "jobevent.v1";

// AMQP topic routing keys are dot-separated words; keep [A-Za-z0-9-] and escape everything else
// (including "_" and ".") as _xx so that distinct instances never share a key.
function escapeWord(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(ch) ? ch : `_${byte.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/**
 * The routing key on which the orchestrator publishes a job's events, derived from its owner:
 * `jobevent.v1.<kind>.<instance escaped>`; `jobevent.v1.unowned` for a request without owner.
 * A runner instance binds its event queue with exactly this key (or `jobevent.v1.<kind>.*`).
 *
 * @example
 *   jobEventRoutingKey({ kind: "forgejo", instance: "https://code.example.org" })
 *   // "jobevent.v1.forgejo.https_3a_2f_2fcode_2eexample_2eorg"
 */
export function jobEventRoutingKey(owner: Pick<JobOwner, "kind" | "instance"> | undefined): string {
  if (owner === undefined) return `${JOB_EVENT_ROUTING_PREFIX}.unowned`;
  return `${JOB_EVENT_ROUTING_PREFIX}.${owner.kind}.${escapeWord(owner.instance)}`;
}
