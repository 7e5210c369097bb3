import type { DebugHold } from "./debug-ssh-policy.ts";

/**
 * The VMs this host keeps for debug SSH, each with its expiry timer: at `expiresAt` the hold is
 * dropped and `onExpire` destroys the VM (force, not renewable). In memory: a restart destroys
 * held VMs through crash recovery.
 *
 * @example
 *   const holds = new DebugHolds((hold) => engine.discard(vmOf(hold)));
 *   holds.add({ requestId, project: projectKey(repo), vmName, expiresAt });
 */
export class DebugHolds {
  readonly #onExpire: (hold: DebugHold) => void | Promise<void>;
  readonly #now: () => number;
  readonly #holds = new Map<string, { hold: DebugHold; timer: NodeJS.Timeout }>();

  constructor(onExpire: (hold: DebugHold) => void | Promise<void>, options: { now?: () => number } = {}) {
    this.#onExpire = onExpire;
    this.#now = options.now ?? Date.now;
  }

  /** The holds in effect. */
  list(): DebugHold[] {
    return [...this.#holds.values()].map((h) => h.hold);
  }

  /** Starts a hold; its timer fires `onExpire` at `expiresAt` (at once if that has passed). */
  add(hold: DebugHold): void {
    this.release(hold.requestId);
    const delay = Math.max(0, hold.expiresAt.getTime() - this.#now());
    const timer = setTimeout(() => {
      this.#holds.delete(hold.requestId);
      void Promise.resolve()
        .then(() => this.#onExpire(hold))
        .catch(() => undefined);
    }, delay);
    // A hold must not keep the process alive on its own (shutdown releases every hold).
    timer.unref();
    this.#holds.set(hold.requestId, { hold, timer });
  }

  /** Ends a hold early (its VM is being destroyed another way); returns it, if there was one. */
  release(requestId: string): DebugHold | undefined {
    const entry = this.#holds.get(requestId);
    if (entry === undefined) return undefined;
    clearTimeout(entry.timer);
    this.#holds.delete(requestId);
    return entry.hold;
  }

  /** Ends every hold (shutdown) and returns them, for the caller to destroy their VMs. */
  releaseAll(): DebugHold[] {
    const all = this.list();
    for (const h of all) this.release(h.requestId);
    return all;
  }
}
