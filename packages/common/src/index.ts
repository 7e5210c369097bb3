export * from "./actions/index.ts";
export * from "./db/index.ts";
export * from "./errors.ts";
export * from "./messages/index.ts";
export * from "./mq/index.ts";
export * from "./telemetry/index.ts";
export * from "./workflow/index.ts";
