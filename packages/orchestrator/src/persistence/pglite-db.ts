import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { Kysely, PGliteDialect } from "kysely";
import { DatabaseOpenError } from "../errors.ts";

/**
 * Opens (creating it the first time) the embedded Postgres (PGlite, Postgres compiled to WASM)
 * whose files live in `dataDir`, behind kysely's own PGlite dialect: one connection, queries
 * serialized by kysely's connection mutex, transactions as PGlite exclusive transactions. The same
 * migrations and queries as Postgres run on it. `destroy()` on the result closes it.
 *
 * Only one process may open a data directory at a time.
 *
 * @example
 *   const db = await openPgliteDb<OrchestratorDatabase>(join(stateDir, "db"));
 */
export async function openPgliteDb<DB>(dataDir: string): Promise<Kysely<DB>> {
  let pglite: PGlite;
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    pglite = await PGlite.create(dataDir);
  } catch (err) {
    throw new DatabaseOpenError(dataDir, err);
  }
  return new Kysely<DB>({ dialect: new PGliteDialect({ pglite }) });
}
