import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * `job_logs`: the recent output lines of each job, for `ciadm logs` and the HTTP API. The forge
 * keeps the full log; this table keeps a bounded tail per job (JobStore prunes older lines).
 */
export const createJobLogs: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("job_logs")
      .addColumn("request_id", "uuid", (c) => c.notNull().references("jobs.request_id").onDelete("cascade"))
      .addColumn("seq", "integer", (c) => c.notNull())
      .addColumn("step", "integer")
      .addColumn("stream", "text", (c) => c.notNull())
      .addColumn("text", "text", (c) => c.notNull())
      .addColumn("ts", "timestamptz", (c) => c.notNull())
      // The primary key makes a redelivered line a no-op and serves "lines after seq N" and pruning.
      .addPrimaryKeyConstraint("job_logs_pkey", ["request_id", "seq"])
      .addCheckConstraint("job_logs_stream_check", sql`stream in ('stdout', 'stderr', 'system')`)
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("job_logs").execute();
  },
};
