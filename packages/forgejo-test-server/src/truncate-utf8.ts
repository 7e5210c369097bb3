/**
 * Forgejo's util.SplitStringAtByteN (names are stored in at most 255 bytes): the longest prefix of
 * `s` of at most `max` UTF-8 bytes that does not split a character.
 */
export function truncateUtf8(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = "";
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}
