// How many jobs a runner holds, and a wait for a free slot. A job being started (taken from the
// forge, still being translated or published) holds its slot from the first moment: the poller
// asks for room again at once, and must not take a second job into the same slot.

/** A runner's slots. */
export class CapacitySlots {
  #held = 0;
  #waiters: (() => void)[] = [];

  /** Slots held now. */
  get held(): number {
    return this.#held;
  }

  /**
   * Takes a slot, synchronously; the returned function gives it back (once, however often it is
   * called).
   *
   * @example
   *   const release = slots.take();
   *   try { await startJob(task); } finally { release(); }
   */
  take(): () => void {
    this.#held += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held -= 1;
      this.wake();
    };
  }

  /** Resolves when fewer than `capacity` slots are held, or when `signal` aborts. */
  async whenBelow(capacity: number, signal: AbortSignal): Promise<void> {
    while (this.#held >= capacity && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener("abort", done);
          resolve();
        };
        this.#waiters.push(done);
        signal.addEventListener("abort", done, { once: true });
      });
    }
  }

  /** Wakes the waiters to check again (waking them for nothing is harmless). */
  wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}
