import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * `fleet_hosts`: one row per orchestrator host, upserted by its heartbeat, so that `/v1/fleet` and
 * `ciadm fleet` can show every host of a mixed fleet (issue 18). `labels` is a jsonb object
 * label -> capacity; `stopped_at` is set by a clean stop.
 */
export const createFleetHosts: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("fleet_hosts")
      .addColumn("host_id", "text", (c) => c.primaryKey())
      .addColumn("labels", "jsonb", (c) => c.notNull())
      .addColumn("capacity", "integer", (c) => c.notNull())
      .addColumn("running_jobs", "integer", (c) => c.notNull())
      .addColumn("started_at", "timestamptz", (c) => c.notNull())
      .addColumn("last_seen", "timestamptz", (c) => c.notNull())
      .addColumn("stopped_at", "timestamptz")
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("fleet_hosts").execute();
  },
};
