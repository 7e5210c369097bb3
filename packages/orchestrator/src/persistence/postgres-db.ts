import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";

/** Settings for a service's single Postgres pool (`DATABASE_URL`, `DB_POOL_MAX_SIZE`, `DB_POOL_TIMEOUT_MS`). */
export interface PostgresOptions {
  url: string;
  /** Most connections the pool opens. */
  poolMax?: number;
  /** How long to wait for a free connection before failing, in ms. */
  acquireTimeoutMs?: number;
  /** Name shown in pg_stat_activity, so operators can tell services apart. */
  applicationName?: string;
}

/**
 * One kysely instance over one pg pool per service, as the original's guidelines ask
 * (never a pool per request). `destroy()` on the result closes the pool.
 *
 * @example
 *   const db = createPostgresDb<Database>({ url: process.env.DATABASE_URL!, applicationName: "solstice-orchestrator" });
 */
export function createPostgresDb<DB>(options: PostgresOptions): Kysely<DB> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: options.acquireTimeoutMs ?? 5_000,
    application_name: options.applicationName ?? "solstice",
  });
  // A client losing its server must not crash the process, idle (the pool's event) or checked
  // out between two queries (the client's own event, which has no listener then): its next query
  // fails, the pool discards it, the next connection is a new one.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}
