import { Code, type ForgejoClient, ForgejoRpcError, Result } from "@solstice/forgejo-protocol";
import type { ForgejoTaskJournal } from "./task-journal-entry.ts";
import type { TaskReport } from "./task-report.ts";

// Sends one task's report to Forgejo, as the reference runner does: every report interval
// UpdateLog (all rows not yet acknowledged, from the acknowledged index) then UpdateTask (the
// state, which is also the heartbeat that keeps Forgejo from failing the task as a zombie), and
// sooner when many rows wait. Its answer tells whether the task was cancelled in Forgejo. At the
// end: the last rows with `no_more`, then the final state, retried until both are accepted.
// After each exchange the journal is saved, and the events whose rows Forgejo now holds are
// released (the event queue acknowledges them).

/** Options of {@link TaskReporter}. */
export interface TaskReporterOptions {
  readonly client: ForgejoClient;
  readonly report: TaskReport;
  readonly journal: ForgejoTaskJournal;
  /** Between reports (the reference runner's `report_interval`). Default 1000 ms. */
  readonly intervalMs?: number;
  /** Report at once when this many rows wait. Default 500. */
  readonly flushRows?: number;
  /** Rows per UpdateLog call. Default 5000. */
  readonly maxRowsPerCall?: number;
  /** Called once when Forgejo says the task was cancelled (or failed) while it runs here. */
  readonly onCancelled?: () => void;
  /** Problems worth an operator's attention (retried anyway). */
  readonly onError?: (error: unknown) => void;
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
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #cancelSeen = false;
  #finalStateSent = false;
  #lastTaskUpdate = 0;
  #savedSeq = -1;
  #waiters: Waiter[] = [];
  readonly #finished: Promise<void>;
  #resolveFinished!: () => void;

  constructor(options: TaskReporterOptions) {
    this.#options = options;
    this.report = options.report;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#flushRows = options.flushRows ?? 500;
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

  /** New rows or a new state: report now if enough rows wait or the job ended. */
  nudge(): void {
    if (this.report.pendingCount >= this.#flushRows || this.report.done) this.#schedule(0);
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
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    if (this.#ticking !== undefined) {
      if (delayMs === 0) this.#again = true;
      return;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#ticking = this.#tick().finally(() => {
        this.#ticking = undefined;
        if (this.#stopped) return;
        const more = this.#again || this.report.pendingCount >= this.#flushRows;
        this.#again = false;
        if (!this.#isComplete()) this.#schedule(more ? 0 : this.#intervalMs);
      });
    }, delayMs);
  }

  #isComplete(): boolean {
    return this.report.done && this.report.logClosed && this.#finalStateSent;
  }

  async #tick(): Promise<void> {
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
      if (!report.logClosed && (report.pendingCount > 0 || report.done)) {
        const { index, rows, last } = report.pendingRows(this.#options.maxRowsPerCall ?? 5000);
        const noMore = report.done && last;
        try {
          const ack = await client.updateLog({ taskId: report.taskId, index: BigInt(index), rows, noMore });
          report.acknowledge(Number(ack), noMore);
        } catch (error) {
          // The log was archived (a previous no_more got through before a restart): it is complete.
          if (error instanceof ForgejoRpcError && error.rpcCode === Code.AlreadyExists)
            report.markLogClosed();
          else throw error;
        }
      }
      const due = Date.now() - this.#lastTaskUpdate >= this.#intervalMs;
      if (due || report.done) {
        const doneNow = report.done;
        const response = await client.updateTask(report.taskState(), report.unsentOutputs());
        this.#lastTaskUpdate = Date.now();
        report.outputsSent(response.sentOutputs);
        const answered = response.state?.result ?? Result.UNSPECIFIED;
        if (!doneNow && (answered === Result.CANCELLED || answered === Result.FAILURE) && !this.#cancelSeen) {
          this.#cancelSeen = true;
          this.#options.onCancelled?.();
        }
        if (doneNow && report.logClosed && !report.outputsPending) this.#finalStateSent = true;
      }
      const durable = report.durableSeq;
      if (durable > this.#savedSeq || this.#isComplete()) {
        if (this.#isComplete()) await journal.remove(report.taskId.toString());
        else await journal.save(report.snapshot());
        this.#savedSeq = durable;
        this.#release();
      }
      if (this.#isComplete()) this.#resolveFinished();
    } catch (error) {
      this.#options.onError?.(error);
    }
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
