import type { JobEvent } from "@solstice/common";

// What the soak saw of each job, from its events and its callbacks: pure bookkeeping, no I/O, so
// the verdict is a function of what arrived.

/** How one job ended, as its `job_finished` event said. */
export interface JobEnd {
  readonly conclusion: "success" | "failure" | "cancelled";
  readonly reason: string | undefined;
  readonly at: number;
}

/** What is known of one job. */
interface JobEntry {
  /** Each delivered `seq`, with a fingerprint of the event that carried it. */
  readonly seqs: Map<number, string>;
  /** Deliveries of a `seq` already seen with the same content (at-least-once: allowed). */
  redelivered: number;
  /** A `seq` seen again with different content: the sequence reused a number. */
  conflicts: number;
  /** Steps started and not yet finished, by index. */
  readonly openSteps: Set<number>;
  lastEventAt: number | undefined;
  end: JobEnd | undefined;
  /** Later `job_finished` events with another conclusion than the first one. */
  contradictingEnds: number;
  /** Distinct executions of the callback step (one nonce per execution in the guest). */
  readonly executions: Set<string>;
  /** Callback requests repeated by one execution (an HTTP retry, not a second run). */
  repeatedCallbacks: number;
}

/** A run of missing `seq`s of one job, both ends included. */
export interface SeqGap {
  readonly requestId: string;
  readonly from: number;
  readonly to: number;
}

/** Jobs that did not end, split by what they were doing when the soak gave up waiting. */
export interface Unfinished {
  /** No event ever arrived, or the store does not show it running: nobody works on it. */
  readonly lost: readonly string[];
  /** Started (events arrived) and `running` in the store, but not ended by the deadline. */
  readonly stuck: readonly string[];
  /** Of `stuck`: those with no event for the stall window (the rest were still making progress). */
  readonly stalled: readonly string[];
}

/** Records events and callbacks per job and answers the soak's questions. */
export class EventLedger {
  readonly #jobs = new Map<string, JobEntry>();
  #unknownEvents = 0;
  #unknownCallbacks = 0;

  /** The jobs to follow; events and callbacks of other ids are counted apart. */
  constructor(requestIds: readonly string[]) {
    for (const id of requestIds) {
      this.#jobs.set(id, {
        seqs: new Map(),
        redelivered: 0,
        conflicts: 0,
        openSteps: new Set(),
        lastEventAt: undefined,
        end: undefined,
        contradictingEnds: 0,
        executions: new Set(),
        repeatedCallbacks: 0,
      });
    }
  }

  /** One delivered event, at `now` (ms). */
  recordEvent(event: JobEvent, now: number): void {
    const job = this.#jobs.get(event.request_id);
    if (job === undefined) {
      this.#unknownEvents += 1;
      return;
    }
    job.lastEventAt = now;
    const print = fingerprint(event);
    const seen = job.seqs.get(event.seq);
    if (seen !== undefined) {
      if (seen === print) job.redelivered += 1;
      else job.conflicts += 1;
      return;
    }
    job.seqs.set(event.seq, print);
    if (event.type === "step_started") job.openSteps.add(event.step);
    else if (event.type === "step_finished") job.openSteps.delete(event.step);
    else if (event.type === "job_finished") {
      if (job.end === undefined) job.end = { conclusion: event.conclusion, reason: event.reason, at: now };
      else if (job.end.conclusion !== event.conclusion) job.contradictingEnds += 1;
    }
  }

  /** One callback from a guest: job id and the nonce of the execution that made it. */
  recordCallback(requestId: string, nonce: string): void {
    const job = this.#jobs.get(requestId);
    if (job === undefined) {
      this.#unknownCallbacks += 1;
      return;
    }
    if (job.executions.has(nonce)) job.repeatedCallbacks += 1;
    else job.executions.add(nonce);
  }

  get total(): number {
    return this.#jobs.size;
  }

  finishedCount(): number {
    let n = 0;
    for (const job of this.#jobs.values()) if (job.end !== undefined) n += 1;
    return n;
  }

  /** Jobs whose step `step` has started and not finished (candidates for a dropped connection). */
  inStep(step: number): string[] {
    const ids: string[] = [];
    for (const [id, job] of this.#jobs) if (job.end === undefined && job.openSteps.has(step)) ids.push(id);
    return ids;
  }

  endOf(requestId: string): JobEnd | undefined {
    return this.#jobs.get(requestId)?.end;
  }

  /** The latest event of any job (ms), for "no progress" decisions. */
  lastEventAt(): number | undefined {
    let last: number | undefined;
    for (const job of this.#jobs.values())
      if (job.lastEventAt !== undefined && (last === undefined || job.lastEventAt > last))
        last = job.lastEventAt;
    return last;
  }

  /** Finished jobs by conclusion; failures and cancellations grouped by reason. */
  outcomes(): { success: number; failed: Map<string, string[]>; cancelled: Map<string, string[]> } {
    let success = 0;
    const failed = new Map<string, string[]>();
    const cancelled = new Map<string, string[]>();
    for (const [id, job] of this.#jobs) {
      if (job.end === undefined) continue;
      if (job.end.conclusion === "success") success += 1;
      else {
        const into = job.end.conclusion === "failure" ? failed : cancelled;
        const reason = job.end.reason ?? "(no reason)";
        into.set(reason, [...(into.get(reason) ?? []), id]);
      }
    }
    return { success, failed, cancelled };
  }

  /**
   * Unfinished jobs at `now`: a job is stuck when events of it arrived and the store shows it
   * `running` (someone holds it, but it did not end); stalled when, besides, no event of it came
   * for `stallMs`. Any other unfinished job is lost: nobody works on it. `runningInStore` is the
   * store's `running` set (undefined when the store could not be read: then events decide).
   */
  unfinished(now: number, stallMs: number, runningInStore: ReadonlySet<string> | undefined): Unfinished {
    const lost: string[] = [];
    const stuck: string[] = [];
    const stalled: string[] = [];
    for (const [id, job] of this.#jobs) {
      if (job.end !== undefined) continue;
      const last = job.lastEventAt;
      const running = runningInStore === undefined ? last !== undefined : runningInStore.has(id);
      if (last === undefined || !running) {
        lost.push(id);
        continue;
      }
      stuck.push(id);
      if (now - last >= stallMs) stalled.push(id);
    }
    return { lost, stuck, stalled };
  }

  /**
   * Missing `seq`s of finished jobs: every number from 0 to the `job_finished` event's must have
   * arrived. (Unfinished jobs are counted as lost or stuck instead.)
   */
  gaps(): SeqGap[] {
    const gaps: SeqGap[] = [];
    for (const [id, job] of this.#jobs) {
      if (job.end === undefined) continue;
      const max = Math.max(...job.seqs.keys());
      let from: number | undefined;
      for (let seq = 0; seq <= max + 1; seq += 1) {
        const missing = seq <= max && !job.seqs.has(seq);
        if (missing && from === undefined) from = seq;
        if (!missing && from !== undefined) {
          gaps.push({ requestId: id, from, to: seq - 1 });
          from = undefined;
        }
      }
    }
    return gaps;
  }

  /** Jobs whose callback step ran more than once (distinct executions), with the count. */
  executedTwice(): Map<string, number> {
    const twice = new Map<string, number>();
    for (const [id, job] of this.#jobs) if (job.executions.size > 1) twice.set(id, job.executions.size);
    return twice;
  }

  /** Jobs that succeeded without their callback: the count of executions cannot be trusted then. */
  succeededWithoutCallback(): string[] {
    const ids: string[] = [];
    for (const [id, job] of this.#jobs)
      if (job.end?.conclusion === "success" && job.executions.size === 0) ids.push(id);
    return ids;
  }

  /** Totals of what is allowed but worth showing, and of what is not. */
  counters(): {
    redelivered: number;
    seqConflicts: number;
    contradictingEnds: number;
    repeatedCallbacks: number;
    callbacks: number;
    unknownEvents: number;
    unknownCallbacks: number;
  } {
    let redelivered = 0;
    let seqConflicts = 0;
    let contradictingEnds = 0;
    let repeatedCallbacks = 0;
    let callbacks = 0;
    for (const job of this.#jobs.values()) {
      redelivered += job.redelivered;
      seqConflicts += job.conflicts;
      contradictingEnds += job.contradictingEnds;
      repeatedCallbacks += job.repeatedCallbacks;
      callbacks += job.executions.size;
    }
    return {
      redelivered,
      seqConflicts,
      contradictingEnds,
      repeatedCallbacks,
      callbacks,
      unknownEvents: this.#unknownEvents,
      unknownCallbacks: this.#unknownCallbacks,
    };
  }
}

/** What makes two events with one `seq` the same event (the timestamp is part of it). */
function fingerprint(event: JobEvent): string {
  return JSON.stringify(event);
}
