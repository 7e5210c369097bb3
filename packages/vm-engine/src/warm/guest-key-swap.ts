import { shQuote } from "../exec/shell-quote.ts";

// What a job's VM restored from a warm template needs before its job runs, as one POSIX shell
// script (pure: no I/O). The restored guest is the template's: it trusts the template key, its
// clock stands at the save instant, its hostname and /etc/solstice/job.yaml are the template's.
// The script runs as root (through `sudo -n` for another SSH user) over the template key's session.

/** Inputs of {@link renderKeySwapScript}. */
export interface KeySwapInput {
  /** The template's public key line (`ssh-ed25519 AAAA... comment`). */
  readonly templatePublicKey: string;
  /** The job's fresh public key line. */
  readonly jobPublicKey: string;
  /** The job VM's name, set as the guest's host name (a cold boot takes it from the seed's meta-data). */
  readonly hostname: string;
  /** The host's clock now, in milliseconds since the epoch. */
  readonly nowMs: number;
  /** The content of `/etc/solstice/job.yaml` (see `renderJobFile`). */
  readonly jobFile: string;
  /** Fresh random bytes (hex) mixed into the guest's entropy pool: every restore starts with the same one. */
  readonly entropyHex: string;
}

/** The path the job file is written to (as the seed's write_files would). */
const JOB_FILE = "/etc/solstice/job.yaml";

/** The base64 blob of an authorized_keys line (`type blob [comment]`). */
export function keyBlob(publicKey: string): string {
  const blob = publicKey.trim().split(/\s+/)[1];
  if (blob === undefined || !/^AAAA[A-Za-z0-9+/]+=*$/.test(blob))
    throw new TypeError("not an authorized_keys line with a base64 key blob");
  return blob;
}

/**
 * The command that runs the script given on its stdin as root, with the SSH user's home as `$1`.
 *
 * @example
 *   await shell.run(keySwapCommand("debian"), { stdin: renderKeySwapScript(input) });
 */
export function keySwapCommand(sshUser: string): string {
  return sshUser === "root" ? `sh -s -- "$HOME"` : `sudo -n sh -s -- "$HOME"`;
}

/**
 * The script: in every authorized_keys the seed wrote (the SSH user's and root's), the template
 * key's blob is replaced by the job key's, so the options cloud-init put before it (root's "please
 * log in as" command) stay as a cold boot would have them; then it checks that the template key
 * is gone and the job key is in. Then the clock, the host name, the job file and the entropy pool.
 * Exits non-zero (3: template key still present, 4: job key missing) when the swap did not hold.
 */
export function renderKeySwapScript(input: KeySwapInput): string {
  const template = keyBlob(input.templatePublicKey);
  const job = keyBlob(input.jobPublicKey);
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/.test(input.hostname))
    throw new TypeError(`bad host name ${JSON.stringify(input.hostname)}`);
  if (!/^[0-9a-f]*$/.test(input.entropyHex)) throw new TypeError("entropyHex must be lowercase hex");
  const seconds = Math.floor(input.nowMs / 1000);
  // `#` is no base64 character: a safe sed delimiter around the blobs.
  return [
    "set -u",
    `tpl=${shQuote(template)}`,
    `job=${shQuote(job)}`,
    `files=""`,
    `for f in "$1/.ssh/authorized_keys" /root/.ssh/authorized_keys; do`,
    `  [ -f "$f" ] || continue`,
    `  sed -i "s#$tpl#$job#g" "$f" || exit 5`,
    `  files="$files $f"`,
    "done",
    `for f in $files; do if grep -qF "$tpl" "$f"; then echo "the template key is still in $f" >&2; exit 3; fi; done`,
    `grep -qF "$job" "$1/.ssh/authorized_keys" 2>/dev/null || { echo "the job key is not in $1/.ssh/authorized_keys" >&2; exit 4; }`,
    // The clock resumed at the save instant.
    `date -u -s "@${seconds}" >/dev/null 2>&1 || echo "warning: could not set the clock" >&2`,
    `hostname ${shQuote(input.hostname)} 2>/dev/null || echo "warning: could not set the host name" >&2`,
    `[ -f /etc/hostname ] && echo ${shQuote(input.hostname)} >/etc/hostname`,
    `[ -f /etc/hosts ] && sed -i "s/^127\\.0\\.1\\.1[[:space:]].*/127.0.1.1 ${input.hostname}/" /etc/hosts`,
    `mkdir -p /etc/solstice && printf '%s' ${shQuote(input.jobFile)} >${JOB_FILE} && chmod 0644 ${JOB_FILE} || exit 6`,
    // Mixed in, not credited: the pool no longer equals the other restores' of this template.
    `printf '%s' ${shQuote(input.entropyHex)} >/dev/urandom 2>/dev/null`,
    "exit 0",
    "",
  ].join("\n");
}
