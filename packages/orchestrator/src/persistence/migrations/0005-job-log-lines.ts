import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

/** How many lines of each job the migration keeps (the default LOG_RETENTION_LINES). */
const KEPT_LINES = 10_000;

/**
 * `job_logs.line`: one row per output line. A log event carries up to 500 lines a step printed
 * together (one `seq`); they were stored as one row, so a retention of "10,000 rows" kept up to
 * 5,000,000 lines. Now each line is its own row, keyed `(request_id, seq, line)` with `line` its
 * index within the event, so retention and paging count lines. Rows already stored are split
 * (in order), then each job keeps its newest 10,000 lines, as retention would.
 */
export const splitJobLogLines: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable("job_logs")
      .addColumn("line", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`alter table job_logs drop constraint job_logs_pkey,
      add constraint job_logs_pkey primary key (request_id, seq, line)`.execute(db);
    // The lines after the first of each multi-line row become rows of their own...
    await sql`insert into job_logs (request_id, seq, line, step, stream, text, ts)
      select l.request_id, l.seq, (p.n - 1)::integer, l.step, l.stream, p.part, l.ts
      from job_logs l
      cross join lateral regexp_split_to_table(l.text, chr(10)) with ordinality as p(part, n)
      where strpos(l.text, chr(10)) > 0 and p.n > 1`.execute(db);
    // ... and the row keeps its first line.
    await sql`update job_logs set text = split_part(text, chr(10), 1) where strpos(text, chr(10)) > 0`.execute(
      db,
    );
    await sql`delete from job_logs j
      using (
        select request_id, seq, line,
          row_number() over (partition by request_id order by seq desc, line desc) as n
        from job_logs
      ) ranked
      where j.request_id = ranked.request_id and j.seq = ranked.seq and j.line = ranked.line
        and ranked.n > ${sql.lit(KEPT_LINES)}`.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    // One row per event again: its lines joined in order.
    await sql`update job_logs j set text = joined.text
      from (
        select request_id, seq, string_agg(text, chr(10) order by line) as text
        from job_logs group by request_id, seq having count(*) > 1
      ) joined
      where j.request_id = joined.request_id and j.seq = joined.seq and j.line = (
        select min(line) from job_logs m where m.request_id = j.request_id and m.seq = j.seq
      )`.execute(db);
    await sql`delete from job_logs j where j.line > (
        select min(line) from job_logs m where m.request_id = j.request_id and m.seq = j.seq
      )`.execute(db);
    await sql`alter table job_logs drop constraint job_logs_pkey,
      add constraint job_logs_pkey primary key (request_id, seq)`.execute(db);
    await db.schema.alterTable("job_logs").dropColumn("line").execute();
  },
};
