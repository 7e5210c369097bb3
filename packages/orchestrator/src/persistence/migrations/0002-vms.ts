import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * `vms`: one row per VM the engine prepared, so that a restarted orchestrator finds the QEMU
 * processes and work directories a crash left behind. No key column, by design (ADR-003).
 */
export const createVms: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("vms")
      .addColumn("vm_name", "text", (c) => c.primaryKey())
      .addColumn("request_id", "uuid", (c) => c.notNull().references("jobs.request_id").onDelete("cascade"))
      .addColumn("host_id", "text", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("ssh_port", "integer")
      .addColumn("pid", "integer")
      .addColumn("work_dir", "text", (c) => c.notNull())
      .addColumn("overlay_path", "text")
      .addColumn("seed_path", "text")
      .addColumn("debug_until", "timestamptz")
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addColumn("updated_at", "timestamptz", (c) => c.notNull())
      .addColumn("destroyed_at", "timestamptz")
      .addCheckConstraint(
        "vms_state_check",
        sql`state in ('preparing', 'running', 'debug_hold', 'destroyed')`,
      )
      .execute();
    await db.schema.createIndex("vms_host_state_idx").on("vms").columns(["host_id", "state"]).execute();
    await db.schema.createIndex("vms_request_idx").on("vms").column("request_id").execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("vms").execute();
  },
};
