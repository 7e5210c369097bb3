// Debug SSH (ADR-003) lets the user in with their own key: the job names it in its environment.
// The per-job key the orchestrator made never leaves this host (see debug-ssh.ts).

/** The job `env` variable that carries the public key(s) allowed into a kept VM. */
export const DEBUG_SSH_KEY_ENV = "SOLSTICE_DEBUG_SSH_KEY";

const KEY_TYPES = new Set([
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
]);

/** What {@link parseDebugSshKeys} found. */
export interface DebugSshKeys {
  /** Valid OpenSSH public keys, one per entry, `type base64 [comment]`. */
  readonly keys: readonly string[];
  /** Why other entries were refused (`entry 2: not an OpenSSH public key`); never quotes them. */
  readonly problems: readonly string[];
}

/**
 * Reads the public keys in `SOLSTICE_DEBUG_SSH_KEY`: one per line (or separated by `;`), each an
 * OpenSSH public key line without options (`ssh-ed25519 AAAA... me@laptop`). Entries with
 * `authorized_keys` options or anything else are refused (reported, not quoted). Pure.
 *
 * @example
 *   parseDebugSshKeys("ssh-ed25519 AAAAC3Nza... me@laptop").keys // ["ssh-ed25519 AAAAC3Nza... me@laptop"]
 */
export function parseDebugSshKeys(value: string | undefined): DebugSshKeys {
  if (value === undefined) return { keys: [], problems: [] };
  const keys: string[] = [];
  const problems: string[] = [];
  entriesOf(value).forEach((entry, i) => {
    const key = publicKeyOf(entry);
    if (key === undefined) {
      problems.push(`entry ${i + 1}: ${NOT_A_KEY} ("<type> <base64> [comment]", no options)`);
      return;
    }
    keys.push(key);
  });
  return { keys, problems };
}

/**
 * `SOLSTICE_DEBUG_SSH_KEY` as the stored copy of a request holds it: its public keys, one per
 * line, and in place of every other entry a note that it was dropped and why — never the entry
 * itself (a private key or a password pasted by mistake must not be stored). Pure.
 *
 * @example
 *   debugSshKeysToStore("ssh-ed25519 AAAAC3Nza... me@laptop;hunter2")
 *   // "ssh-ed25519 AAAAC3Nza... me@laptop\n<entry 2 dropped: not an OpenSSH public key>"
 */
export function debugSshKeysToStore(value: string): string {
  return entriesOf(value)
    .map((entry, i) => publicKeyOf(entry) ?? `<entry ${i + 1} dropped: ${NOT_A_KEY}>`)
    .join("\n");
}

const NOT_A_KEY = "not an OpenSSH public key";

/** The entries of the variable: one per line, or separated by `;`; blank ones ignored. */
function entriesOf(value: string): string[] {
  return value
    .split(/[\n;]/)
    .map((e) => e.trim())
    .filter((e) => e !== "");
}

/** The entry as a key line (`type base64 [comment]`, spaces normalised), or undefined if it is none. */
function publicKeyOf(entry: string): string | undefined {
  const [type, blob, ...comment] = entry.split(/\s+/);
  const validBlob = blob !== undefined && /^[A-Za-z0-9+/]+={0,3}$/.test(blob) && blob.length >= 16;
  if (type === undefined || !KEY_TYPES.has(type) || !validBlob) return undefined;
  return [type, blob, ...comment].join(" ");
}
