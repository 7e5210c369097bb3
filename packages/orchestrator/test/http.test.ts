import { describeHttpApi } from "./http-api-cases.ts";

// The HTTP API over the embedded database (PGlite): no external service needed.
describeHttpApi("pglite");
