import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * `jobs.next_event_seq`: the `seq` the job's next event will carry. The service writes it before
 * it publishes a batch of events, so after a crash the events it sends for the job (the failure
 * report, or a requeued run) continue the owner's sequence exactly: no `seq` used twice (an owner
 * would drop the duplicate) and no invented gap.
 */
export const addJobEventSeq: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable("jobs")
      .addColumn("next_event_seq", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable("jobs").dropColumn("next_event_seq").execute();
  },
};
