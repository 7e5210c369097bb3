import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * `jobs`: one row per JobRequest, keyed by `request_id` (execution is once per request id even
 * though delivery is at least once). The original's columns (request_id, repo_url, commit_sha,
 * runs_on, state, created/updated) plus what the service needs to report, recover and list.
 */
export const createJobs: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("jobs")
      .addColumn("request_id", "uuid", (c) => c.primaryKey())
      .addColumn("source", "text", (c) => c.notNull())
      .addColumn("repo_url", "text", (c) => c.notNull())
      .addColumn("commit_sha", "text", (c) => c.notNull())
      .addColumn("runs_on", "text")
      .addColumn("resolved_label", "text")
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("conclusion", "text")
      .addColumn("reason", "text")
      .addColumn("host_id", "text", (c) => c.notNull())
      .addColumn("owner_kind", "text")
      .addColumn("owner_instance", "text")
      .addColumn("owner_task_id", "text")
      .addColumn("request", "jsonb", (c) => c.notNull())
      .addColumn("requeueable", "boolean", (c) => c.notNull().defaultTo(false))
      .addColumn("steps_started", "boolean", (c) => c.notNull().defaultTo(false))
      .addColumn("attempt", "integer", (c) => c.notNull().defaultTo(1))
      .addColumn("received_at", "timestamptz", (c) => c.notNull())
      .addColumn("started_at", "timestamptz")
      .addColumn("finished_at", "timestamptz")
      .addColumn("updated_at", "timestamptz", (c) => c.notNull())
      .addCheckConstraint("jobs_state_check", sql`state in ('accepted', 'running', 'finished')`)
      .addCheckConstraint(
        "jobs_conclusion_check",
        sql`(state = 'finished') = (conclusion is not null) and (conclusion is null or conclusion in ('success', 'failure', 'cancelled'))`,
      )
      .execute();
    // Recovery reads a host's unfinished jobs; the API lists by state and label, newest first.
    await db.schema.createIndex("jobs_host_state_idx").on("jobs").columns(["host_id", "state"]).execute();
    await db.schema
      .createIndex("jobs_state_received_idx")
      .on("jobs")
      .columns(["state", "received_at"])
      .execute();
    await db.schema
      .createIndex("jobs_label_received_idx")
      .on("jobs")
      .columns(["resolved_label", "received_at"])
      .execute();
    await db.schema.createIndex("jobs_received_idx").on("jobs").column("received_at").execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("jobs").execute();
  },
};
