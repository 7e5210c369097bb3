/**
 * Whether a periodic write's outcome is worth a log line: the first failure of an outage and the
 * first success after it, nothing in between (a database away for an hour must not print a
 * warning every tick). Pure state, no I/O.
 *
 * @example
 *   const notice = new OutageNotice();
 *   notice.failed();    // "outage-began": log a warning
 *   notice.failed();    // undefined: still the same outage
 *   notice.succeeded(); // { failures: 2 }: log that it works again
 *   notice.succeeded(); // undefined
 */
export class OutageNotice {
  #failures = 0;

  /** True while the last attempt failed. */
  get failing(): boolean {
    return this.#failures > 0;
  }

  /** An attempt failed: `"outage-began"` on the first failure of an outage, else undefined. */
  failed(): "outage-began" | undefined {
    this.#failures += 1;
    return this.#failures === 1 ? "outage-began" : undefined;
  }

  /** An attempt succeeded: how many failed before it when that ends an outage, else undefined. */
  succeeded(): { readonly failures: number } | undefined {
    const failures = this.#failures;
    this.#failures = 0;
    return failures === 0 ? undefined : { failures };
  }
}
