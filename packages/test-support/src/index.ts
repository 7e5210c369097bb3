export * from "./cli-runner.ts";
export * from "./eventually.ts";
export * from "./mq-names.ts";
export * from "./orchestrator-process.ts";
export * from "./runner-fixtures.ts";
export * from "./services.ts";
export * from "./tcp-proxy.ts";
export * from "./vm-guests.ts";
