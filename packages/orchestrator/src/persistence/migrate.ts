import { type Kysely, sql } from "kysely";
import { type Migration, type MigrationProvider, type MigrationResult, Migrator } from "kysely/migration";
import { MigrationError } from "../errors.ts";
import { MIGRATIONS } from "./migrations/migration-list.ts";

/** The table where applied migrations are recorded (and its lock table, `<name>_lock`). */
export const MIGRATION_TABLE = "solstice_orchestrator_migration";

// The migrations ship in the package (no files read at run time), identical for Postgres and PGlite.
const provider: MigrationProvider = {
  getMigrations: async (): Promise<Record<string, Migration>> => ({ ...MIGRATIONS }),
};

async function migratorFor<DB>(db: Kysely<DB>): Promise<Migrator> {
  // Name the schema the tables live in (the connection's current one: `public`, or the one its
  // search_path selects). Without it, kysely takes a migration table found in ANY schema of the
  // database for ours, and then fails to find it in our own ("relation ... does not exist").
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema ?? undefined;
  return new Migrator({
    db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: `${MIGRATION_TABLE}_lock`,
    ...(schema === undefined || schema === null ? {} : { migrationTableSchema: schema }),
  });
}

/**
 * Brings the database to the newest schema; safe to run on every start and from several hosts at
 * once (kysely takes a lock). Returns the names of the migrations it applied (empty when none was
 * pending). Throws `MigrationError` naming the migration that failed.
 *
 * @example
 *   const applied = await migrateToLatest(db); // ["0001-jobs", "0002-vms", "0003-job-logs"] the first time
 */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<string[]> {
  const { error, results } = await (await migratorFor(db)).migrateToLatest();
  if (error !== undefined) throw new MigrationError(failedMigration(results), error);
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/**
 * Brings the database to migration `target` exactly (up or down), e.g. to test a migration
 * against rows written by the schema before it. Returns the migrations it applied or undid.
 */
export async function migrateTo<DB>(db: Kysely<DB>, target: string): Promise<string[]> {
  const { error, results } = await (await migratorFor(db)).migrateTo(target);
  if (error !== undefined) throw new MigrationError(failedMigration(results), error);
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** The names of the migrations applied so far, in order. */
export async function appliedMigrations<DB>(db: Kysely<DB>): Promise<string[]> {
  const all = await (await migratorFor(db)).getMigrations();
  return all.filter((m) => m.executedAt !== undefined).map((m) => m.name);
}

/** The names of every migration this version knows, in order. */
export function knownMigrations(): string[] {
  return Object.keys(MIGRATIONS).sort();
}

function failedMigration(results: readonly MigrationResult[] | undefined): string | undefined {
  return results?.find((r) => r.status === "Error")?.migrationName;
}
