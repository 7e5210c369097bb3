export { createPostgresDb, type PostgresOptions } from "./postgres.ts";
