export * from "./cli-runner.ts";
export * from "./services.ts";
