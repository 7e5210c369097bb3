/**
 * The capacity limits of one orchestrator host: at most `global` jobs at once, and at most
 * `perLabel.get(label)` of one label; a label absent from the map gets `defaultPerLabel`.
 */
export interface CapacityLimits {
  /** MAX_CONCURRENCY: jobs (VMs) at once on this host, all labels together. */
  readonly global: number;
  /** CAPACITY_MAP: jobs at once per label. */
  readonly perLabel: ReadonlyMap<string, number>;
  /**
   * The limit of a label the map does not name. Default 1, as the original (one semaphore permit per
   * unknown label), so an unplanned label cannot take the whole host.
   */
  readonly defaultPerLabel?: number | undefined;
  /** Labels always in `inUse()` (the image map's), so their gauges exist before their first job. */
  readonly known?: Iterable<string> | undefined;
}

/** The default limit of a label absent from CAPACITY_MAP (the original's choice). */
export const DEFAULT_LABEL_CAPACITY = 1;

/** Use and limit of one label. */
export interface LabelCapacity {
  readonly inUse: number;
  readonly limit: number;
  /** Jobs of this label waiting for capacity. */
  readonly queued: number;
}

/** A snapshot of the scheduler, for metrics and the HTTP API. */
export interface CapacitySnapshot {
  readonly inUse: number;
  readonly limit: number;
  readonly queued: number;
  /** Every label known, configured, in use or queued, by name. */
  readonly labels: Readonly<Record<string, LabelCapacity>>;
}

/** What the scheduler needs of a job: the (resolved) label it runs on. */
export interface Schedulable {
  readonly label: string;
}

interface Waiting<T> {
  readonly order: number;
  readonly item: T;
}

/**
 * Decides which waiting job may start, and nothing else (no I/O, no timers): the service enqueues
 * jobs, calls `next()` whenever something changed (a job arrived, a job ended) and starts what it
 * returns, and calls `release(label)` when a started job ends.
 *
 * - Global limit and per-label limits both hold at every moment.
 * - FIFO within a label.
 * - No head-of-line blocking: a job waiting for a busy label does not hold back a later job for a
 *   free label (the original took a global permit first and then waited for the label's, so a job
 *   of a busy label could sit on a global slot).
 * - Among startable jobs of different labels, the one enqueued first starts first.
 *
 * @example
 *   const s = new CapacityScheduler<Job>({ global: 2, perLabel: parseCapacityMap("ubuntu=2") });
 *   s.enqueue(job);
 *   for (let j = s.next(); j !== undefined; j = s.next()) start(j); // later: s.release(j.label)
 */
export class CapacityScheduler<T extends Schedulable> {
  readonly #global: number;
  readonly #perLabel: ReadonlyMap<string, number>;
  readonly #defaultPerLabel: number;
  readonly #known: readonly string[];
  readonly #queues = new Map<string, Waiting<T>[]>();
  readonly #inUse = new Map<string, number>();
  #total = 0;
  #queued = 0;
  #order = 0;

  constructor(limits: CapacityLimits) {
    this.#global = positiveInteger(limits.global, "global limit");
    this.#defaultPerLabel = positiveInteger(
      limits.defaultPerLabel ?? DEFAULT_LABEL_CAPACITY,
      "default label limit",
    );
    for (const [label, n] of limits.perLabel) positiveInteger(n, `limit of label "${label}"`);
    this.#perLabel = new Map(limits.perLabel);
    this.#known = [...(limits.known ?? [])];
  }

  /** The limit that applies to `label`. */
  limitFor(label: string): number {
    return this.#perLabel.get(label) ?? this.#defaultPerLabel;
  }

  /** Adds a job at the end of its label's queue. */
  enqueue(item: T): void {
    const queue = this.#queues.get(item.label);
    const waiting = { order: this.#order++, item };
    if (queue === undefined) this.#queues.set(item.label, [waiting]);
    else queue.push(waiting);
    this.#queued += 1;
  }

  /**
   * The job to start now, with its capacity taken (call `release(job.label)` when it ends), or
   * undefined when no waiting job may start. Call it until it returns undefined.
   */
  next(): T | undefined {
    if (this.#total >= this.#global) return undefined;
    let best: { label: string; queue: Waiting<T>[]; head: Waiting<T> } | undefined;
    for (const [label, queue] of this.#queues) {
      const head = queue[0];
      if (head === undefined || (this.#inUse.get(label) ?? 0) >= this.limitFor(label)) continue;
      if (best === undefined || head.order < best.head.order) best = { label, queue, head };
    }
    if (best === undefined) return undefined;
    best.queue.shift();
    if (best.queue.length === 0) this.#queues.delete(best.label);
    this.#queued -= 1;
    this.#inUse.set(best.label, (this.#inUse.get(best.label) ?? 0) + 1);
    this.#total += 1;
    return best.head.item;
  }

  /** A started job of `label` ended: its capacity is free again. Throws if none was in use. */
  release(label: string): void {
    const used = this.#inUse.get(label) ?? 0;
    if (used === 0) throw new Error(`CapacityScheduler.release("${label}"): no job of this label is running`);
    if (used === 1) this.#inUse.delete(label);
    else this.#inUse.set(label, used - 1);
    this.#total -= 1;
  }

  /** Removes the waiting jobs that match (e.g. a job cancelled before it started) and returns them. */
  remove(matches: (item: T) => boolean): T[] {
    const removed: T[] = [];
    for (const [label, queue] of this.#queues) {
      const kept = queue.filter((w) => {
        if (!matches(w.item)) return true;
        removed.push(w.item);
        return false;
      });
      if (kept.length === 0) this.#queues.delete(label);
      else this.#queues.set(label, kept);
    }
    this.#queued -= removed.length;
    return removed;
  }

  /** Removes and returns every waiting job, in enqueue order (shutdown). */
  drain(): T[] {
    const all = [...this.#queues.values()].flat().sort((a, b) => a.order - b.order);
    this.#queues.clear();
    this.#queued = 0;
    return all.map((w) => w.item);
  }

  /** Jobs started and not yet released. */
  get running(): number {
    return this.#total;
  }

  /** Jobs waiting for capacity. */
  get queued(): number {
    return this.#queued;
  }

  /** Use, limits and queue lengths: global and per label (configured, in use or queued). */
  inUse(): CapacitySnapshot {
    const labels: Record<string, LabelCapacity> = {};
    const names = new Set([
      ...this.#known,
      ...this.#perLabel.keys(),
      ...this.#inUse.keys(),
      ...this.#queues.keys(),
    ]);
    for (const label of [...names].sort()) {
      labels[label] = {
        inUse: this.#inUse.get(label) ?? 0,
        limit: this.limitFor(label),
        queued: this.#queues.get(label)?.length ?? 0,
      };
    }
    return { inUse: this.#total, limit: this.#global, queued: this.#queued, labels };
  }
}

function positiveInteger(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 1)
    throw new RangeError(`CapacityScheduler: ${what} must be a positive integer, got ${n}`);
  return n;
}
