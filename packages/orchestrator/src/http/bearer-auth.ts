import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Checks an `Authorization` header against the expected bearer token in constant time (both sides
 * are hashed first, so neither the content nor the length of the token leaks through timing).
 *
 * @example
 *   bearerTokenMatches("Bearer s3cr3t-token-value", "s3cr3t-token-value") // true
 */
export function bearerTokenMatches(header: string | undefined, expected: string): boolean {
  if (header === undefined) return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  const given = match?.[1] ?? "";
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  // Compare the digests always (no early return), then require a token at all.
  return timingSafeEqual(a, b) && given !== "";
}
