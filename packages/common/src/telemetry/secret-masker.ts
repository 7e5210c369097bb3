import { MASK } from "./mask.ts";
import { redactUrlCredentials } from "./url-credentials.ts";

export { MASK } from "./mask.ts";

/**
 * Replaces secret values with `***` in text. Values are registered as they become known (job
 * secrets, tokens); credentials in URLs are always masked (`scheme://***@host`, see
 * url-credentials.ts). Applied to every log line, after serialisation, so no field, message or
 * error text escapes it.
 *
 * @example
 *   const masker = new SecretMasker(); masker.add(token);
 *   masker.mask(`token is ${token}`) // "token is ***"
 */
export class SecretMasker {
  // Each secret as it appears raw and JSON-escaped (a log line is JSON).
  readonly #needles = new Set<string>();

  /** Registers secret values (each line of a multi-line value too); empty and tiny values are ignored. */
  add(...secrets: readonly string[]): void {
    for (const secret of secrets) {
      for (const part of [secret, ...secret.split(/\r?\n/)]) {
        const value = part.trim();
        // Masking 1-2 character values would shred every log line.
        if (value.length < 3) continue;
        this.#needles.add(value);
        this.#needles.add(JSON.stringify(value).slice(1, -1));
      }
    }
  }

  /** How many distinct needles are registered. */
  get size(): number {
    return this.#needles.size;
  }

  /** `text` with every registered secret and URL credentials replaced by `***`. */
  mask(text: string): string {
    let out = redactUrlCredentials(text);
    if (this.#needles.size === 0) return out;
    // Longest first, so a secret containing another is masked whole.
    for (const needle of [...this.#needles].sort((a, b) => b.length - a.length)) {
      if (out.includes(needle)) out = out.split(needle).join(MASK);
    }
    return out;
  }
}
