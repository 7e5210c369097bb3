import { describeHttpApi } from "./http-api-cases.ts";

// The HTTP API over the real Postgres.
describeHttpApi("postgres");
