// A last line of defence for ADR-003 ("SSH keys are never persisted"): log lines are stored for
// `ciadm logs`, and a guest or a step may print a key (a debug SSH connection line, `cat id_ed25519`).
// Stored copies get key material replaced; the forge's live log is not affected.

/** What replaces an OpenSSH public key in a stored line. */
export const PUBLIC_KEY_REDACTED = "<ssh public key redacted>";
/** What replaces each line of a PEM/OpenSSH private key block in stored lines. */
export const PRIVATE_KEY_REDACTED = "<private key redacted>";

// The key types OpenSSH writes in authorized_keys / .pub files, followed by the base64 blob
// (which always starts with "AAAA": the length prefix of the type name).
const PUBLIC_KEY =
  /\b(?:ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)\s+AAAA[0-9A-Za-z+/]+=*/g;
const BEGIN_PRIVATE = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const END_PRIVATE = /-----END [A-Z0-9 ]*PRIVATE KEY-----/;

// The longest private key block we expect (an RSA 16384-bit PEM is about 220 lines). A BEGIN line
// without its END must not swallow the rest of a job's log.
const MAX_BLOCK_LINES = 256;

/** Per job: whether the previous stored line left a private key block open, and for how long. */
export interface KeyFilterState {
  readonly insidePrivateKey: boolean;
  readonly linesInside: number;
}

/** The state before a job's first line. */
export const KEY_FILTER_START: KeyFilterState = { insidePrivateKey: false, linesInside: 0 };

/** `text` with every OpenSSH public key replaced (`ssh-ed25519 AAAA...` → `<ssh public key redacted>`). */
export function redactPublicKeys(text: string): string {
  return text.replace(PUBLIC_KEY, PUBLIC_KEY_REDACTED);
}

/**
 * Redacts key material in consecutive lines of one job. A private key block spans lines, so the
 * state carries over from one call to the next (pass back the returned `state`).
 *
 * @example
 *   redactKeyMaterial(["key: ssh-ed25519 AAAAC3Nza... me@host"], KEY_FILTER_START).lines
 *   // ["key: <ssh public key redacted> me@host"]
 */
export function redactKeyMaterial(
  lines: readonly string[],
  state: KeyFilterState,
): { lines: string[]; state: KeyFilterState } {
  let inside = state.insidePrivateKey;
  let linesInside = state.linesInside;
  const out: string[] = [];
  for (const line of lines) {
    if (inside && linesInside < MAX_BLOCK_LINES) {
      out.push(PRIVATE_KEY_REDACTED);
      linesInside += 1;
      if (END_PRIVATE.test(line)) inside = false;
      continue;
    }
    inside = false;
    const begin = BEGIN_PRIVATE.exec(line);
    if (begin !== null) {
      const rest = line.slice(begin.index + begin[0].length);
      // A block on one line (BEGIN ... END) closes itself; otherwise the following lines are inside.
      inside = !END_PRIVATE.test(rest);
      linesInside = 0;
      out.push(line.slice(0, begin.index).replace(PUBLIC_KEY, PUBLIC_KEY_REDACTED) + PRIVATE_KEY_REDACTED);
      continue;
    }
    out.push(line.replace(PUBLIC_KEY, PUBLIC_KEY_REDACTED));
  }
  return { lines: out, state: { insidePrivateKey: inside, linesInside: inside ? linesInside : 0 } };
}
