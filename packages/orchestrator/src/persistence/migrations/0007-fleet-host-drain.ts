import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * `fleet_hosts.version` (the orchestrator's version, shown in the fleet view),
 * `fleet_hosts.heartbeat_secs` (the host's own interval: it is stale after 3 of them) and
 * `fleet_hosts.draining_since` (set when a stop begins: the host takes no new job while its
 * running jobs finish; cleared by the next start).
 */
export const addFleetHostDrain: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable("fleet_hosts")
      .addColumn("version", "text")
      .addColumn("heartbeat_secs", "integer")
      .addColumn("draining_since", "timestamptz")
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable("fleet_hosts")
      .dropColumn("version")
      .dropColumn("heartbeat_secs")
      .dropColumn("draining_since")
      .execute();
  },
};
