import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DATABASE_URL, requirePostgres } from "@solstice/test-support";
import { type Kysely, sql } from "kysely";
import type { OrchestratorDatabase } from "../src/persistence/database-schema.ts";
import { openPgliteDb } from "../src/persistence/pglite-db.ts";
import { createPostgresDb } from "../src/persistence/postgres-db.ts";

// Shared setup for the persistence and HTTP tests: the same tests run over every backend the
// orchestrator supports (as kysely's own tests loop over DIALECTS), each in a fresh, private
// database: a unique schema on the real Postgres, a fresh PGlite in a temp directory.

/** A fresh, empty database on one backend; `close()` drops it. */
export interface TestDatabase {
  readonly db: Kysely<OrchestratorDatabase>;
  /** For messages: `postgres` or `pglite`. */
  readonly backend: BackendName;
  close(): Promise<void>;
}

export type BackendName = "postgres" | "pglite";

/** The backends, by name. */
export const BACKENDS: readonly BackendName[] = ["postgres", "pglite"];

/** Opens a fresh database on `backend`. */
export function openTestDatabase(backend: BackendName): Promise<TestDatabase> {
  return backend === "postgres" ? openPostgresSchema() : openPglite();
}

async function openPostgresSchema(): Promise<TestDatabase> {
  await requirePostgres();
  const schema = `orch_test_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = createPostgresDb<OrchestratorDatabase>({
    url: DATABASE_URL,
    applicationName: "solstice-test",
  });
  await sql`create schema ${sql.id(schema)}`.execute(admin);
  // Every connection of the pool sees only the test's schema (tables and the migration table).
  const url = new URL(DATABASE_URL);
  url.searchParams.set("options", `-c search_path=${schema}`);
  const db = createPostgresDb<OrchestratorDatabase>({
    url: url.toString(),
    applicationName: "solstice-test",
  });
  return {
    db,
    backend: "postgres",
    async close() {
      await db.destroy();
      await sql`drop schema ${sql.id(schema)} cascade`.execute(admin);
      await admin.destroy();
    },
  };
}

async function openPglite(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), "solstice-pglite-test-"));
  const db = await openPgliteDb<OrchestratorDatabase>(join(dir, "db"));
  return {
    db,
    backend: "pglite",
    async close() {
      await db.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
