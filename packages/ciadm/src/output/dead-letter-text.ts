import type { DeadLetter } from "@solstice/common";

/** What `ciadm dlq list --json` prints for a dead letter (the body only when asked for). */
export function deadLetterJson(letter: DeadLetter, withBody: boolean): Record<string, unknown> {
  return {
    message_id: letter.messageId ?? null,
    reason: letter.reason,
    code: letter.code,
    original_exchange: letter.originalExchange ?? null,
    original_routing_key: letter.originalRoutingKey ?? null,
    original_queue: letter.originalQueue ?? null,
    failed_at: letter.failedAt ?? null,
    attempts: letter.attempts ?? null,
    type: letter.type ?? null,
    size: letter.body.length,
    ...(withBody ? { body: letter.body.toString("utf8") } : {}),
  };
}

/**
 * `ciadm dlq list`: each dead letter as a block: id, code, when, how many attempts, where from,
 * then the reason (the body, which may hold secrets, only with `--body`).
 */
export function formatDeadLetters(letters: readonly DeadLetter[], withBody: boolean): string {
  if (letters.length === 0) return "the dead-letter queue is empty\n";
  return letters
    .map((l) => {
      const from = [l.originalExchange, l.originalRoutingKey].filter((x) => x !== undefined).join(" / ");
      const lines = [
        `${l.messageId ?? "(no message id)"}  ${l.code}  failed ${l.failedAt ?? "at an unknown time"}` +
          `${l.attempts === undefined ? "" : `  attempts ${l.attempts}`}  ${l.body.length} bytes`,
        `  from:   ${from === "" ? "unknown" : from}${l.type === undefined ? "" : ` (${l.type})`}`,
        `  reason: ${l.reason}`,
      ];
      if (withBody) lines.push(`  body:   ${l.body.toString("utf8")}`);
      return `${lines.join("\n")}\n`;
    })
    .join("");
}
