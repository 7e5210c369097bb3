import { SPAN_ATTRIBUTES as ATTR, inSpan, type TraceParent } from "@solstice/common";
import { Code, type ForgejoClient, ForgejoRpcError, Result } from "@solstice/forgejo-protocol";
import type { ForgejoTaskJournal } from "./task-journal-entry.ts";
import type { TaskReport } from "./task-report.ts";

// Sends one task's report to Forgejo. Rows: UpdateLog with all rows not yet acknowledged, from
// the acknowledged index (one call at a time: Forgejo ignores a call whose index is past what it
// holds), as soon as `flushRows` wait or the oldest has waited `logLatencyMs`; while a call is in
// flight the next rows gather, so the calls follow the rows' own pace. State: UpdateTask every
// report interval (the heartbeat that keeps Forgejo from failing the task as a zombie; its answer
// tells whether the task was cancelled in Forgejo), alongside the rows rather than in front of
// them. At the end: the last rows with `no_more`, then the final state, retried until both are
// accepted. After each exchange the journal is saved, beside the next exchange rather than before
// it (one save at a time, the latest snapshot), and once a save holds them the events whose rows
// Forgejo has are released (the event queue acknowledges them).

/** Options of {@link TaskReporter}. */
export interface TaskReporterOptions {
  readonly client: ForgejoClient;
  readonly report: TaskReport;
  readonly journal: ForgejoTaskJournal;
  /** Between reports (the reference runner's `report_interval`). Default 1000 ms. */
  readonly intervalMs?: number;
  /** Report at once when this many rows wait. Default 500. */
  readonly flushRows?: number;
  /** Fewer rows wait at most this long before an UpdateLog takes them. Default 100 ms. */
  readonly logLatencyMs?: number;
  /** Rows per UpdateLog call. Default 5000. */
  readonly maxRowsPerCall?: number;
  /** Called once when Forgejo says the task was cancelled (or failed) while it runs here. */
  readonly onCancelled?: () => void;
  /** Problems worth an operator's attention (retried anyway). */
  readonly onError?: (error: unknown) => void;
  /**
   * The task's span: each UpdateLog call and the final UpdateTask is a child span of it (not the
   * heartbeats, which would grow the trace with the job's length). Default: the active context.
   */
  readonly traceParent?: TraceParent | undefined;
}

interface Waiter {
  readonly seq: number;
  readonly resolve: () => void;
}

/** Reports a task until Forgejo has all of it. */
export class TaskReporter {
  readonly report: TaskReport;
  readonly #options: TaskReporterOptions;
  readonly #intervalMs: number;
  readonly #flushRows: number;
  readonly #logLatencyMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (Date.now() time). */
  #timerDue = 0;
  #ticking: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #cancelSeen = false;
  #complete = false;
  #finalStateSent = false;
  #lastTaskUpdate = 0;
  #savedSeq = -1;
  /** The journal save in progress, and whether a newer snapshot waits for it. */
  #saving: Promise<void> | undefined;
  #saveAgain = false;
  #waiters: Waiter[] = [];
  readonly #finished: Promise<void>;
  #resolveFinished!: () => void;

  constructor(options: TaskReporterOptions) {
    this.#options = options;
    this.report = options.report;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#flushRows = options.flushRows ?? 500;
    this.#logLatencyMs = options.logLatencyMs ?? 100;
    this.#finished = new Promise((resolve) => {
      this.#resolveFinished = resolve;
    });
  }

  /** Resolves once Forgejo has every row (log archived) and the final state. */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /** Starts reporting (the first report goes out at once). */
  start(): void {
    this.#schedule(0);
  }

  /** New rows or a new state: report now if enough rows wait or the job ended, soon if any wait. */
  nudge(): void {
    if (this.report.pendingCount >= this.#flushRows || this.report.done) this.#schedule(0);
    else if (this.report.pendingCount > 0) this.#schedule(this.#logLatencyMs);
  }

  /**
   * Resolves when the event `seq` is durable (Forgejo holds its rows, the journal is saved);
   * never settles once the reporter stopped (the event goes back to the queue with the connection).
   */
  waitDurable(seq: number): Promise<void> {
    if (seq < this.#savedSeq || this.report.logClosed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ seq, resolve }));
  }

  /**
   * Stops reporting (service shutdown). Events still waiting stay unacknowledged: closing the
   * queue connection returns them to the queue for the next start (rejecting them would count
   * as a failed delivery).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#ticking;
    await this.#saving;
  }

  /** Arms the next report in `delayMs`, unless one is due sooner (or runs: then after it). */
  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    if (this.#ticking !== undefined) {
      if (delayMs === 0) this.#again = true;
      return;
    }
    const due = Date.now() + delayMs;
    if (this.#timer !== undefined) {
      if (this.#timerDue <= due) return;
      clearTimeout(this.#timer);
    }
    this.#timerDue = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#ticking = this.#tick().then((ok) => {
        this.#ticking = undefined;
        // Complete but not finished: removing the journal failed; the next round tries again.
        if (this.#stopped || this.#complete) return;
        const pending = this.report.pendingCount;
        // Rows that came during the call: at once when many (or the job ended), else within the
        // latency bound; nothing waiting: the next heartbeat.
        const more =
          this.#again || pending >= this.#flushRows || (this.report.done && !this.report.logClosed);
        this.#again = false;
        // After a failure: the next try in a report interval, not at once.
        if (!ok) this.#schedule(this.#intervalMs);
        else this.#schedule(more ? 0 : pending > 0 ? this.#logLatencyMs : this.#intervalMs);
      });
    }, delayMs);
  }

  #isComplete(): boolean {
    return this.report.done && this.report.logClosed && this.#finalStateSent;
  }

  /** One round; false when a call or the journal failed (reported through `onError`). */
  async #tick(): Promise<boolean> {
    const { client, journal } = this.#options;
    const report = this.report;
    try {
      if (report.unsynced) {
        // A resumed task: where does the server's log end? (No rows: it only answers its count.)
        const ack = await client.updateLog({
          taskId: report.taskId,
          index: BigInt(report.ackIndex),
          rows: [],
          noMore: false,
        });
        report.syncServerAck(Number(ack));
      }
      // The heartbeat of a running task goes beside the rows (its own connection), not before them.
      const heartbeatDue = !report.done && Date.now() - this.#lastTaskUpdate >= this.#intervalMs;
      const settled = await Promise.allSettled([
        this.#sendRows(),
        heartbeatDue ? this.#heartbeat() : Promise.resolve(),
      ]);
      for (const outcome of settled) if (outcome.status === "rejected") throw outcome.reason;
      if (report.done) {
        // The final state: after the rows, so that Forgejo has the whole log when it sees the end.
        const response = await inSpan(
          "forgejo UpdateTask",
          { [ATTR.taskId]: report.taskId.toString(), [ATTR.forgeCall]: "UpdateTask" },
          () => client.updateTask(report.taskState(), report.unsentOutputs()),
          { parent: this.#options.traceParent, kind: "client" },
        );
        this.#lastTaskUpdate = Date.now();
        report.outputsSent(response.sentOutputs);
        if (report.logClosed && !report.outputsPending) this.#finalStateSent = true;
      }
      if (this.#isComplete()) {
        await this.#saving;
        await journal.remove(report.taskId.toString());
        this.#savedSeq = report.durableSeq;
        this.#release();
        this.#complete = true;
        this.#resolveFinished();
      } else if (report.durableSeq > this.#savedSeq) {
        this.#save();
      }
      return true;
    } catch (error) {
      this.#options.onError?.(error);
      return false;
    }
  }

  /** UpdateLog: the rows not yet acknowledged, from the acknowledged index (up to maxRowsPerCall). */
  async #sendRows(): Promise<void> {
    const report = this.report;
    if (report.logClosed || (report.pendingCount === 0 && !report.done)) return;
    const { index, rows, last } = report.pendingRows(this.#options.maxRowsPerCall ?? 5000);
    const noMore = report.done && last;
    try {
      const ack = await inSpan(
        "forgejo UpdateLog",
        { [ATTR.taskId]: report.taskId.toString(), [ATTR.forgeCall]: "UpdateLog", [ATTR.rows]: rows.length },
        () => this.#options.client.updateLog({ taskId: report.taskId, index: BigInt(index), rows, noMore }),
        { parent: this.#options.traceParent, kind: "client" },
      );
      report.acknowledge(Number(ack), noMore);
    } catch (error) {
      // The log was archived (a previous no_more got through before a restart): it is complete.
      if (error instanceof ForgejoRpcError && error.rpcCode === Code.AlreadyExists) report.markLogClosed();
      else throw error;
    }
  }

  /** UpdateTask while the task runs: the state, and whether Forgejo cancelled it. */
  async #heartbeat(): Promise<void> {
    const report = this.report;
    const response = await this.#options.client.updateTask(report.taskState(), report.unsentOutputs());
    this.#lastTaskUpdate = Date.now();
    report.outputsSent(response.sentOutputs);
    const answered = response.state?.result ?? Result.UNSPECIFIED;
    if (!report.done && (answered === Result.CANCELLED || answered === Result.FAILURE) && !this.#cancelSeen) {
      this.#cancelSeen = true;
      this.#options.onCancelled?.();
    }
  }

  /**
   * Saves the journal in the background: one save at a time, each of the snapshot current when it
   * starts; the events its durable seq covers are released once it is written.
   */
  #save(): void {
    if (this.#saving !== undefined) {
      this.#saveAgain = true;
      return;
    }
    this.#saving = (async () => {
      do {
        this.#saveAgain = false;
        const durable = this.report.durableSeq;
        if (durable <= this.#savedSeq) break;
        try {
          await this.#options.journal.save(this.report.snapshot());
        } catch (error) {
          // The next report tries again (its events stay unacknowledged meanwhile).
          this.#options.onError?.(error);
          break;
        }
        this.#savedSeq = durable;
        this.#release();
      } while (this.#saveAgain && !this.#isComplete());
    })().finally(() => {
      this.#saving = undefined;
    });
  }

  #release(): void {
    const keep: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.seq < this.#savedSeq || this.report.logClosed) waiter.resolve();
      else keep.push(waiter);
    }
    this.#waiters = keep;
  }
}
