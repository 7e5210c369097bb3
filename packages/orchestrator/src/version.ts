import { readFileSync } from "node:fs";

/** This orchestrator's version (package.json), as its fleet heartbeat records it. */
export const ORCHESTRATOR_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
