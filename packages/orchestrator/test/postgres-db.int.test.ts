import { DATABASE_URL, requirePostgres } from "@solstice/test-support";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createPostgresDb } from "../src/persistence/postgres-db.ts";

interface SmokeDb {
  [table: string]: { id: number; note: string };
}

describe("postgres through kysely + pg", () => {
  const table = `smoke_${process.pid}_${Date.now()}`;
  const db = createPostgresDb<SmokeDb>({ url: DATABASE_URL, applicationName: "solstice-test" });

  beforeAll(requirePostgres);
  afterAll(async () => {
    await db.schema.dropTable(table).ifExists().execute();
    await db.destroy();
  });

  test("connects, writes and reads back", async () => {
    const version = await sql<{ server_version: string }>`show server_version`.execute(db);
    expect(version.rows[0]?.server_version).toMatch(/^\d+/);

    await db.schema
      .createTable(table)
      .addColumn("id", "integer", (c) => c.primaryKey())
      .addColumn("note", "text", (c) => c.notNull())
      .execute();
    await db
      .insertInto(table)
      .values([
        { id: 1, note: "one" },
        { id: 2, note: "two" },
      ])
      .execute();
    const rows = await db.selectFrom(table).select(["id", "note"]).orderBy("id").execute();
    expect(rows).toEqual([
      { id: 1, note: "one" },
      { id: 2, note: "two" },
    ]);
  });

  test("a bad URL fails with the server's reason", async () => {
    const bad = createPostgresDb({ url: DATABASE_URL.replace(/:[^:@/]+@/, ":wrong-password@") });
    await expect(sql`select 1`.execute(bad)).rejects.toThrow(/password authentication failed/);
    await bad.destroy();
  });
});
