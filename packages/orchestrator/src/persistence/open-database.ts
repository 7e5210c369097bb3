import { join } from "node:path";
import type { Kysely } from "kysely";
import type { OrchestratorDatabase } from "./database-schema.ts";
import { openPgliteDb } from "./pglite-db.ts";
import { createPostgresDb } from "./postgres-db.ts";

/** Where the orchestrator keeps its state: a Postgres server (fleet) or PGlite files (embedded). */
export type DatabaseTarget =
  | { readonly kind: "postgres"; readonly url: string; readonly poolMax?: number | undefined }
  | { readonly kind: "pglite"; readonly dataDir: string };

/**
 * The database target for a configuration: Postgres when a URL is given, else PGlite under
 * `<stateDir>/db` (embedded single-node mode).
 */
export function databaseTarget(fields: {
  databaseUrl?: string | undefined;
  stateDir: string;
}): DatabaseTarget {
  if (fields.databaseUrl !== undefined && fields.databaseUrl !== "") {
    return { kind: "postgres", url: fields.databaseUrl };
  }
  return { kind: "pglite", dataDir: join(fields.stateDir, "db") };
}

/** Opens the orchestrator's database. `destroy()` on the result closes the pool or PGlite. */
export async function openDatabase(target: DatabaseTarget): Promise<Kysely<OrchestratorDatabase>> {
  if (target.kind === "pglite") return openPgliteDb<OrchestratorDatabase>(target.dataDir);
  return createPostgresDb<OrchestratorDatabase>({
    url: target.url,
    applicationName: "solstice-orchestrator",
    ...(target.poolMax === undefined ? {} : { poolMax: target.poolMax }),
  });
}

/** A short, secret-free description of a target for logs (the URL without its password). */
export function describeDatabaseTarget(target: DatabaseTarget): string {
  if (target.kind === "pglite") return `pglite:${target.dataDir}`;
  try {
    const url = new URL(target.url);
    if (url.password !== "") url.password = "***";
    return url.toString();
  } catch {
    return "postgres:(unparseable URL)";
  }
}
