import { inspect } from "node:util";

// The per-job SSH key (ADR-003) travels with the VM handle but must never reach a log, a
// database row or a file: the private key lives in a private field that JSON.stringify, util.inspect
// and pino all see as "[redacted]". It is dropped when the VM is destroyed.

const REDACTED = "[redacted]";

/** The SSH identity of one VM: user, public key, fingerprint, and the private key kept in memory. */
export class VmCredentials {
  /** The user SSH logs in as. */
  readonly user: string;
  /** `ssh-ed25519 AAAA... comment`. */
  readonly publicKey: string;
  /** `SHA256:...` (safe to log). */
  readonly fingerprint: string;
  #privateKey: string | undefined;

  constructor(fields: { user: string; publicKey: string; fingerprint: string; privateKey: string }) {
    this.user = fields.user;
    this.publicKey = fields.publicKey;
    this.fingerprint = fields.fingerprint;
    this.#privateKey = fields.privateKey;
  }

  /** The OpenSSH private key, for the SSH client only. Throws once {@link forget} was called. */
  privateKey(): string {
    if (this.#privateKey === undefined)
      throw new Error(`the SSH key of ${this.user} (${this.fingerprint}) was forgotten`);
    return this.#privateKey;
  }

  /** Whether the private key is still held. */
  get held(): boolean {
    return this.#privateKey !== undefined;
  }

  /** Drop the private key (the VM is gone; nothing can use it any more). */
  forget(): void {
    this.#privateKey = undefined;
  }

  toJSON(): Record<string, string> {
    return { user: this.user, fingerprint: this.fingerprint, privateKey: REDACTED };
  }

  toString(): string {
    return `VmCredentials(${this.user}, ${this.fingerprint})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
