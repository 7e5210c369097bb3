import { describe, expect, test } from "vitest";
import { appliedMigrations, knownMigrations, migrateToLatest } from "../src/persistence/migrate.ts";
import { openDatabase } from "../src/persistence/open-database.ts";
import { postgresSchema } from "./orchestrator-support.ts";

// Several orchestrator databases in one Postgres, one schema each (DATABASE_URL with
// `options=-c search_path=...`), as the tests and a shared server have them: migrating one
// must not mistake another schema's migration tables for its own.
describe("migrations per schema", () => {
  test("a second schema migrates while the first one's tables exist", async () => {
    const first = await postgresSchema("first");
    const second = await postgresSchema("second");
    const a = await openDatabase({ kind: "postgres", url: first.url });
    const b = await openDatabase({ kind: "postgres", url: second.url });
    try {
      expect(await migrateToLatest(a)).toEqual(knownMigrations());
      expect(await migrateToLatest(b)).toEqual(knownMigrations());
      expect(await appliedMigrations(b)).toEqual(knownMigrations());
      expect(await migrateToLatest(a)).toEqual([]);
    } finally {
      await a.destroy();
      await b.destroy();
      await first.drop();
      await second.drop();
    }
  });
});
