import type { JobConclusion, JobRequest } from "@solstice/common";
import { type Kysely, sql } from "kysely";
import { JobNotFoundError, JobStateError, VmNotFoundError } from "../errors.ts";
import type { JobRow, NewJobLogRow, OrchestratorDatabase, VmRowUpdate } from "./database-schema.ts";
import {
  JOB_STATES,
  type JobRecord,
  type JobState,
  type LogLine,
  type LogPosition,
  type NewVm,
  UNFINISHED_JOB_STATES,
  VM_STATES,
  type VmRecord,
  type VmState,
  type VmUpdate,
} from "./job-records.ts";
import { KEY_FILTER_START, type KeyFilterState, redactKeyMaterial } from "./key-material-filter.ts";
import { redactJobRequest } from "./redact-request.ts";
import { acceptedJobRow, logLineRow, newVmRow, rowToJob, rowToLogLine, rowToVm } from "./row-mapping.ts";

/** How much of each job's log `job_logs` keeps: its newest lines, within both bounds. */
export interface LogRetention {
  /** Lines (LOG_RETENTION_LINES). */
  readonly lines: number;
  /** Bytes of text, UTF-8 (LOG_RETENTION_BYTES). */
  readonly bytes: number;
}

/** What `job_logs` keeps of each job by default (older lines are pruned as new ones arrive). */
export const DEFAULT_LOG_RETENTION: LogRetention = { lines: 10_000, bytes: 4 * 1024 * 1024 };
/** `listJobs` page size when none is asked, and the most it returns. */
export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 1_000;
/** `getLogs` page size in lines when none is asked, and the most it returns. */
export const DEFAULT_LOG_PAGE = 1_000;
export const MAX_LOG_PAGE = 10_000;
/** `line` of a position that stands for every line of its event (`after_seq` alone). */
export const ALL_LINES = 2_147_483_647;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Settings of a JobStore. */
export interface JobStoreOptions {
  /** The clock (tests pass a fixed one). */
  readonly now?: (() => Date) | undefined;
  /** What `job_logs` keeps per job; default {@link DEFAULT_LOG_RETENTION}. */
  readonly logRetention?: Partial<LogRetention> | undefined;
  /** Called once per job, when `finish` records its end (metrics). Must not throw. */
  readonly onFinished?: ((job: JobRecord, conclusion: JobConclusion) => void) | undefined;
}

/** What `recordAccepted` did. */
export interface AcceptOutcome {
  /** The job as recorded: the new row, or the existing one when the request id was known. */
  readonly job: JobRecord;
  /** False when a job with this request id already existed (a redelivery): do not run it again. */
  readonly created: boolean;
}

/** What `finish` did. */
export interface FinishOutcome {
  readonly job: JobRecord;
  /** False when the job had already finished (its first conclusion stands). */
  readonly applied: boolean;
}

/** Filters for `listJobs`. */
export interface ListJobsQuery {
  readonly state?: JobState | undefined;
  /** The resolved label. */
  readonly label?: string | undefined;
  readonly hostId?: string | undefined;
  /** Only jobs received before this instant (for paging: pass the last job's `receivedAt`). */
  readonly before?: Date | undefined;
  /** Default 50, at most 1,000. */
  readonly limit?: number | undefined;
}

/** Paging for `getLogs`. */
export interface LogQuery {
  /**
   * Only lines after this one (default: from the first kept line). `{ seq, line: ALL_LINES }` is
   * after every line of event `seq`.
   */
  readonly after?: LogPosition | undefined;
  /** Lines; default 1,000, at most 10,000. */
  readonly limit?: number | undefined;
}

/**
 * The orchestrator's repository: jobs, their VMs and their recent log lines, on Postgres or PGlite
 * alike. State changes are conditional updates (`... where state in (...)`), so two writers racing
 * (a cancel and the job's own end) cannot both win: see the state machine in `job-records.ts`.
 *
 * @example
 *   const store = new JobStore(db);
 *   const { job, created } = await store.recordAccepted(request, { hostId: "host-a", label: "ubuntu-24.04" });
 *   if (created) { await store.markRunning(job.requestId); ... }
 */
export class JobStore {
  readonly #db: Kysely<OrchestratorDatabase>;
  readonly #now: () => Date;
  readonly #onFinished: ((job: JobRecord, conclusion: JobConclusion) => void) | undefined;
  readonly #logRetention: LogRetention;
  // Jobs whose last stored line left a private key block open (see key-material-filter.ts); a job
  // is here only while that is so, and never after it finished.
  readonly #keyFilter = new Map<string, KeyFilterState>();
  // Lines and bytes stored per running job, so that pruning runs only once a bound is passed.
  readonly #logTallies = new Map<string, { lines: number; bytes: number }>();

  constructor(db: Kysely<OrchestratorDatabase>, options: JobStoreOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
    this.#onFinished = options.onFinished;
    const retention = { ...DEFAULT_LOG_RETENTION, ...options.logRetention };
    this.#logRetention = {
      lines: Math.max(1, Math.floor(retention.lines)),
      bytes: Math.max(1, Math.floor(retention.bytes)),
    };
  }

  /** Checks that the database answers (for `/readyz`). */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#db);
  }

  // ------------------------------------------------------------------------------------------
  // Jobs
  // ------------------------------------------------------------------------------------------

  /**
   * Records a request as `accepted`, once per request id: when the id is already known (the broker
   * redelivered it), nothing is written and the existing job is returned with `created: false`.
   * Secrets (`mask` values) are replaced by `***` in the stored copy of the request.
   */
  async recordAccepted(
    request: JobRequest,
    fields: { readonly hostId: string; readonly label: string | null },
  ): Promise<AcceptOutcome> {
    const row = acceptedJobRow(request, redactJobRequest(request), { ...fields, now: this.#now() });
    const inserted = await this.#db
      .insertInto("jobs")
      .values(row)
      .onConflict((oc) => oc.column("request_id").doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted !== undefined) return { job: rowToJob(inserted), created: true };
    const existing = await this.getJob(request.request_id);
    if (existing === undefined) throw new JobNotFoundError(request.request_id);
    return { job: existing, created: false };
  }

  /** `accepted` → `running` (capacity taken, VM provisioning starts); sets `startedAt`. */
  async markRunning(requestId: string): Promise<JobRecord> {
    const now = this.#now();
    return this.#transition(requestId, "markRunning", ["accepted"], {
      state: "running",
      started_at: now,
      updated_at: now,
    });
  }

  /** Notes that the first step began (idempotent); from then on a restart fails the job. */
  async markStepsStarted(requestId: string): Promise<JobRecord> {
    return this.#transition(requestId, "markStepsStarted", ["running"], {
      steps_started: true,
      updated_at: this.#now(),
    });
  }

  /**
   * Raises the job's event high-water mark to `nextSeq` (never lowers it): written before events
   * up to `nextSeq - 1` are published, so that whatever is sent for the job later (after a
   * restart) continues the owner's sequence. Unknown jobs are ignored.
   */
  async recordEventSeq(requestId: string, nextSeq: number): Promise<void> {
    await this.#db
      .updateTable("jobs")
      .set({ next_event_seq: sql<number>`greatest(next_event_seq, ${nextSeq})` })
      .where("request_id", "=", requestId)
      .execute();
  }

  /** The `seq` the job's next event must carry (0 for a job that sent none, or is unknown). */
  async nextEventSeq(requestId: string): Promise<number> {
    if (!UUID.test(requestId)) return 0;
    const row = await this.#db
      .selectFrom("jobs")
      .select("next_event_seq")
      .where("request_id", "=", requestId)
      .executeTakeFirst();
    return row?.next_event_seq ?? 0;
  }

  /**
   * `accepted`/`running` → `finished` with a conclusion and a reason for people. When the job has
   * already finished, nothing changes and `applied` is false (the first conclusion stands).
   */
  async finish(requestId: string, conclusion: JobConclusion, reason?: string | null): Promise<FinishOutcome> {
    const now = this.#now();
    const row = await this.#db
      .updateTable("jobs")
      .set({ state: "finished", conclusion, reason: reason ?? null, finished_at: now, updated_at: now })
      .where("request_id", "=", requestId)
      .where("state", "in", UNFINISHED_JOB_STATES)
      .returningAll()
      .executeTakeFirst();
    this.#keyFilter.delete(requestId);
    this.#logTallies.delete(requestId);
    if (row !== undefined) {
      const job = rowToJob(row);
      this.#onFinished?.(job, conclusion);
      return { job, applied: true };
    }
    const current = await this.getJob(requestId);
    if (current === undefined) throw new JobNotFoundError(requestId);
    return { job: current, applied: false };
  }

  /**
   * `running`/`accepted` → `accepted` again, for crash recovery: only while no step has started.
   * Counts the attempt and clears `startedAt`.
   */
  async requeue(requestId: string): Promise<JobRecord> {
    const row = await this.#db
      .updateTable("jobs")
      .set((eb) => ({
        state: "accepted",
        started_at: null,
        attempt: eb("attempt", "+", 1),
        updated_at: this.#now(),
      }))
      .where("request_id", "=", requestId)
      .where("state", "in", UNFINISHED_JOB_STATES)
      .where("steps_started", "=", false)
      .returningAll()
      .executeTakeFirst();
    if (row !== undefined) return rowToJob(row);
    const current = await this.getJob(requestId);
    if (current === undefined) throw new JobNotFoundError(requestId);
    throw new JobStateError(
      requestId,
      current.state,
      "requeue",
      current.stepsStarted ? "its steps have started" : undefined,
    );
  }

  /** The job with this request id, or undefined (also for a string that is not a UUID). */
  async getJob(requestId: string): Promise<JobRecord | undefined> {
    if (!UUID.test(requestId)) return undefined;
    const row = await this.#db
      .selectFrom("jobs")
      .selectAll()
      .where("request_id", "=", requestId)
      .executeTakeFirst();
    return row === undefined ? undefined : rowToJob(row);
  }

  /** Jobs, newest first, filtered by state, resolved label and host. */
  async listJobs(query: ListJobsQuery = {}): Promise<JobRecord[]> {
    let q = this.#db.selectFrom("jobs").selectAll();
    if (query.state !== undefined) q = q.where("state", "=", query.state);
    if (query.label !== undefined) q = q.where("resolved_label", "=", query.label);
    if (query.hostId !== undefined) q = q.where("host_id", "=", query.hostId);
    if (query.before !== undefined) q = q.where("received_at", "<", query.before);
    const rows = await q
      .orderBy("received_at", "desc")
      .orderBy("request_id", "desc")
      .limit(clampLimit(query.limit, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT))
      .execute();
    return rows.map(rowToJob);
  }

  /** This host's jobs that are not finished (`accepted` or `running`), oldest first: what a restart must settle. */
  async unfinishedForHost(hostId: string): Promise<JobRecord[]> {
    const rows: JobRow[] = await this.#db
      .selectFrom("jobs")
      .selectAll()
      .where("host_id", "=", hostId)
      .where("state", "in", UNFINISHED_JOB_STATES)
      .orderBy("received_at", "asc")
      .execute();
    return rows.map(rowToJob);
  }

  /** How many jobs are in each state (every state present, 0 when none); for one host when given. */
  async countJobsByState(hostId?: string): Promise<Record<JobState, number>> {
    let q = this.#db
      .selectFrom("jobs")
      .select(["state", sql<number>`count(*)::int`.as("n")])
      .groupBy("state");
    if (hostId !== undefined) q = q.where("host_id", "=", hostId);
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const row of await q.execute()) {
      if (isOneOf(JOB_STATES, row.state)) counts[row.state] = Number(row.n);
    }
    return counts;
  }

  // ------------------------------------------------------------------------------------------
  // VMs
  // ------------------------------------------------------------------------------------------

  /** Records a VM the engine prepared (state `preparing` unless given). */
  async recordVm(vm: NewVm): Promise<VmRecord> {
    const row = await this.#db
      .insertInto("vms")
      .values(newVmRow(vm, this.#now()))
      .returningAll()
      .executeTakeFirstOrThrow();
    return rowToVm(row);
  }

  /** Updates a live VM's fields (pid once QEMU runs, `debug_hold` and `debugUntil` for debug SSH...). */
  async updateVm(vmName: string, update: VmUpdate): Promise<VmRecord> {
    const set: VmRowUpdate = { updated_at: this.#now() };
    if (update.state !== undefined) set.state = update.state;
    if (update.sshPort !== undefined) set.ssh_port = update.sshPort;
    if (update.pid !== undefined) set.pid = update.pid;
    if (update.overlayPath !== undefined) set.overlay_path = update.overlayPath;
    if (update.seedPath !== undefined) set.seed_path = update.seedPath;
    if (update.debugUntil !== undefined) set.debug_until = update.debugUntil;
    const row = await this.#db
      .updateTable("vms")
      .set(set)
      .where("vm_name", "=", vmName)
      .where("state", "!=", "destroyed")
      .returningAll()
      .executeTakeFirst();
    if (row !== undefined) return rowToVm(row);
    const current = await this.#vm(vmName);
    if (current === undefined) throw new VmNotFoundError(vmName);
    return current;
  }

  /** The VM is gone (process stopped, files removed). Idempotent. */
  async markVmDestroyed(vmName: string): Promise<VmRecord> {
    const now = this.#now();
    const row = await this.#db
      .updateTable("vms")
      .set({ state: "destroyed", pid: null, debug_until: null, destroyed_at: now, updated_at: now })
      .where("vm_name", "=", vmName)
      .where("state", "!=", "destroyed")
      .returningAll()
      .executeTakeFirst();
    if (row !== undefined) return rowToVm(row);
    const current = await this.#vm(vmName);
    if (current === undefined) throw new VmNotFoundError(vmName);
    return current;
  }

  /** This host's VMs that are not destroyed (all of them with `includeDestroyed`), oldest first. */
  async vmsForHost(hostId: string, options: { includeDestroyed?: boolean } = {}): Promise<VmRecord[]> {
    let q = this.#db.selectFrom("vms").selectAll().where("host_id", "=", hostId);
    if (options.includeDestroyed !== true) q = q.where("state", "!=", "destroyed");
    const rows = await q.orderBy("created_at", "asc").orderBy("vm_name", "asc").execute();
    return rows.map(rowToVm);
  }

  /** Every VM a job has had, oldest first. */
  async vmsForJob(requestId: string): Promise<VmRecord[]> {
    if (!UUID.test(requestId)) return [];
    const rows = await this.#db
      .selectFrom("vms")
      .selectAll()
      .where("request_id", "=", requestId)
      .orderBy("created_at", "asc")
      .orderBy("vm_name", "asc")
      .execute();
    return rows.map(rowToVm);
  }

  /** How many of this host's VMs are in each state (every state present). */
  async countVmsByState(hostId: string): Promise<Record<VmState, number>> {
    const rows = await this.#db
      .selectFrom("vms")
      .select(["state", sql<number>`count(*)::int`.as("n")])
      .where("host_id", "=", hostId)
      .groupBy("state")
      .execute();
    const counts = Object.fromEntries(VM_STATES.map((s) => [s, 0])) as Record<VmState, number>;
    for (const row of rows) if (isOneOf(VM_STATES, row.state)) counts[row.state] = Number(row.n);
    return counts;
  }

  // ------------------------------------------------------------------------------------------
  // Logs
  // ------------------------------------------------------------------------------------------

  /**
   * Stores log lines (any number, of any jobs; one row each) in batched inserts, then prunes each
   * job to its newest lines within the retention (lines and bytes; the newest line is always
   * kept). A line whose (request id, seq, line) is already stored is ignored, so a replay or a
   * retry is harmless. Key material in the text is redacted (see key-material-filter.ts); the
   * filter's state moves on only once the lines are stored, so a retried call redacts the same.
   * Returns how many lines were inserted.
   */
  async appendLogs(lines: readonly LogLine[]): Promise<number> {
    if (lines.length === 0) return 0;
    const byJob = new Map<string, LogLine[]>();
    for (const line of lines) {
      const list = byJob.get(line.requestId);
      if (list === undefined) byJob.set(line.requestId, [line]);
      else list.push(line);
    }
    let inserted = 0;
    for (const [requestId, jobLines] of byJob) {
      jobLines.sort((a, b) => a.seq - b.seq || a.line - b.line);
      const filtered = redactKeyMaterial(
        jobLines.map((l) => l.text),
        this.#keyFilter.get(requestId) ?? KEY_FILTER_START,
      );
      // Postgres text holds no NUL (the engine strips control characters; this is the backstop).
      const rows = jobLines.map((line, i) =>
        logLineRow(line, (filtered.lines[i] ?? "").replaceAll("\0", "\uFFFD")),
      );
      const tally = await this.#logTally(requestId);
      try {
        const added = await this.#insertLogRows(rows);
        inserted += added.lines;
        tally.lines += added.lines;
        tally.bytes += added.bytes;
        const { lines: maxLines, bytes: maxBytes } = this.#logRetention;
        if (tally.lines > 1 && (tally.lines > maxLines || tally.bytes > maxBytes))
          await this.#prune(requestId, tally);
      } catch (error) {
        // A write whose answer was lost may have landed: count again on the retry.
        this.#logTallies.delete(requestId);
        throw error;
      }
      if (filtered.state.insidePrivateKey) this.#keyFilter.set(requestId, filtered.state);
      else this.#keyFilter.delete(requestId);
    }
    return inserted;
  }

  /** A job's stored lines in order, after `query.after`: at most `query.limit` (10,000). */
  async getLogs(requestId: string, query: LogQuery = {}): Promise<LogLine[]> {
    if (!UUID.test(requestId)) return [];
    let q = this.#db.selectFrom("job_logs").selectAll().where("request_id", "=", requestId);
    const after = query.after;
    if (after !== undefined) {
      q = q.where((eb) => eb(eb.refTuple("seq", "line"), ">", eb.tuple(after.seq, after.line)));
    }
    const rows = await q
      .orderBy("seq", "asc")
      .orderBy("line", "asc")
      .limit(clampLimit(query.limit, DEFAULT_LOG_PAGE, MAX_LOG_PAGE))
      .execute();
    return rows.map(rowToLogLine);
  }

  /** How much of a job's log is stored: lines and UTF-8 bytes of text. */
  async logSize(requestId: string): Promise<{ lines: number; bytes: number }> {
    if (!UUID.test(requestId)) return { lines: 0, bytes: 0 };
    const row = await this.#db
      .selectFrom("job_logs")
      .select([sql<string>`count(*)`.as("lines"), sql<string | null>`sum(octet_length(text))`.as("bytes")])
      .where("request_id", "=", requestId)
      .executeTakeFirst();
    return { lines: Number(row?.lines ?? 0), bytes: Number(row?.bytes ?? 0) };
  }

  // ------------------------------------------------------------------------------------------

  async #transition(
    requestId: string,
    transition: string,
    from: readonly JobState[],
    set: { state?: JobState; started_at?: Date; steps_started?: boolean; updated_at: Date },
  ): Promise<JobRecord> {
    const row = await this.#db
      .updateTable("jobs")
      .set(set)
      .where("request_id", "=", requestId)
      .where("state", "in", from)
      .returningAll()
      .executeTakeFirst();
    if (row !== undefined) return rowToJob(row);
    const current = await this.getJob(requestId);
    if (current === undefined) throw new JobNotFoundError(requestId);
    throw new JobStateError(requestId, current.state, transition);
  }

  async #vm(vmName: string): Promise<VmRecord | undefined> {
    const row = await this.#db.selectFrom("vms").selectAll().where("vm_name", "=", vmName).executeTakeFirst();
    return row === undefined ? undefined : rowToVm(row);
  }

  /**
   * One statement for any number of rows: the rows travel as one JSON document, so neither the
   * statement's text nor its parameter count grows with the batch (VALUES lists of 1,000 rows
   * stored 16k lines/s here, this 23k). Counts what was new (a redelivered line is not).
   */
  async #insertLogRows(rows: readonly NewJobLogRow[]): Promise<{ lines: number; bytes: number }> {
    const json = JSON.stringify(rows);
    const insert = sql<{ lines: string; bytes: string | null }>`
      with added as (
        insert into job_logs (request_id, seq, line, step, stream, text, ts)
        select request_id, seq, line, step, stream, text, ts
        from json_to_recordset(${json}::json)
          as r(request_id uuid, seq integer, line integer, step integer, stream text, text text, ts timestamptz)
        on conflict (request_id, seq, line) do nothing
        returning octet_length(text) as bytes
      )
      select count(*) as lines, sum(bytes) as bytes from added`;
    // The forge holds the job's whole log; this table is a tail for the API. So its rows need not
    // wait for the WAL to reach the disk (a database crash may lose the last few; about a tenth of
    // a batch's time here). Job states and event sequence numbers stay synchronous.
    const result = await this.#db.transaction().execute(async (trx) => {
      await sql`set local synchronous_commit to off`.execute(trx);
      return insert.execute(trx);
    });
    const row = result.rows[0];
    return { lines: Number(row?.lines ?? 0), bytes: Number(row?.bytes ?? 0) };
  }

  /** What is stored of a job's log, counted once per process and then kept up to date here. */
  async #logTally(requestId: string): Promise<{ lines: number; bytes: number }> {
    let tally = this.#logTallies.get(requestId);
    if (tally === undefined) {
      tally = await this.logSize(requestId);
      this.#logTallies.set(requestId, tally);
    }
    return tally;
  }

  /**
   * Drops a job's oldest lines until both bounds hold again; the newest line stays whatever its
   * size. Runs only once a bound is passed, and walks the job's rows from the oldest only as far as
   * it deletes: a long job costs the lines it loses, not a pass over its whole tail per batch.
   */
  async #prune(requestId: string, tally: { lines: number; bytes: number }): Promise<void> {
    const dropLines = Math.max(0, tally.lines - this.#logRetention.lines);
    const dropBytes = Math.max(0, tally.bytes - this.#logRetention.bytes);
    const result = await sql<{ lines: string; bytes: string | null }>`
      with last as (
        select seq, line from (
          select seq, line,
            row_number() over oldest as n,
            sum(octet_length(text)) over oldest as dropped_bytes
          from job_logs where request_id = ${requestId}
          window oldest as (order by seq, line)
        ) ranked
        where (n >= ${dropLines} and dropped_bytes >= ${dropBytes}) or n >= ${tally.lines - 1}
        order by seq, line
        limit 1
      ), dropped as (
        delete from job_logs
        where request_id = ${requestId} and (seq, line) <= (select seq, line from last)
        returning octet_length(text) as bytes
      )
      select count(*) as lines, sum(bytes) as bytes from dropped`.execute(this.#db);
    const row = result.rows[0];
    tally.lines -= Number(row?.lines ?? 0);
    tally.bytes -= Number(row?.bytes ?? 0);
    // A count that drifted (another writer, a row deleted by hand) is read again next time.
    if (tally.lines < 1 || tally.bytes < 0) this.#logTallies.delete(requestId);
  }
}

function clampLimit(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(max, Math.max(1, Math.floor(limit)));
}

function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}
