import type { CapacityScheduler, Schedulable } from "../scheduling/capacity-scheduler.ts";

/** A place taken at the gate: give it back once the job is enqueued (or was not accepted). */
export interface Admission {
  release(): void;
}

interface Waiter {
  readonly label: string;
  readonly admit: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * Back-pressure between the queue consumer and the scheduler: a job request is accepted (recorded,
 * acknowledged) only when it can start at once (its label and the host have free capacity) or
 * when fewer than `buffer` accepted jobs are waiting. Other deliveries wait here unacknowledged
 * (at most the consumer's prefetch, which equals the capacity), so the rest stays in the broker
 * for other hosts. A request for a free label passes one waiting for a busy label.
 *
 * @example
 *   const admission = await gate.admit(label);
 *   try { await store.recordAccepted(...); runner.enqueue(job); } finally { admission.release(); }
 */
export class AdmissionGate {
  readonly #scheduler: CapacityScheduler<Schedulable>;
  readonly #buffer: number;
  // Admitted but not yet enqueued: counted as queued for the label.
  readonly #reserved = new Map<string, number>();
  #reservedTotal = 0;
  #waiters: Waiter[] = [];
  #closed: Error | undefined;

  constructor(scheduler: CapacityScheduler<Schedulable>, options: { buffer: number }) {
    this.#scheduler = scheduler;
    this.#buffer = Math.max(0, Math.floor(options.buffer));
  }

  /** Deliveries waiting at the gate. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Waits until a job of `label` may be accepted. Rejects once the gate is closed. */
  admit(label: string): Promise<Admission> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const admission = new Promise<Admission>((resolve, reject) => {
      this.#waiters.push({ label, admit: () => resolve(this.#take(label)), reject });
    });
    // Older waiters first; a later one passes them only when they do not fit and it does.
    this.changed();
    return admission;
  }

  /** Capacity or the queue changed: admit the waiters that now fit, oldest first. */
  changed(): void {
    const still: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (this.#fits(waiter.label)) waiter.admit();
      else still.push(waiter);
    }
    this.#waiters = still;
  }

  /** Refuses every waiting and future admission with `error` (shutdown). */
  close(error: Error): void {
    this.#closed = error;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }

  #fits(label: string): boolean {
    const snapshot = this.#scheduler.inUse();
    if (snapshot.queued + this.#reservedTotal < this.#buffer) return true;
    const mine = snapshot.labels[label];
    const labelLoad = (mine?.inUse ?? 0) + (mine?.queued ?? 0) + (this.#reserved.get(label) ?? 0);
    // Waiting jobs hold no capacity: the scheduler starts a startable one at once, so those
    // still waiting are blocked by their own label.
    const hostLoad = snapshot.inUse + this.#reservedTotal;
    return labelLoad < this.#scheduler.limitFor(label) && hostLoad < snapshot.limit;
  }

  #take(label: string): Admission {
    this.#reserved.set(label, (this.#reserved.get(label) ?? 0) + 1);
    this.#reservedTotal += 1;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const n = (this.#reserved.get(label) ?? 1) - 1;
        if (n === 0) this.#reserved.delete(label);
        else this.#reserved.set(label, n);
        this.#reservedTotal -= 1;
        this.changed();
      },
    };
  }
}
