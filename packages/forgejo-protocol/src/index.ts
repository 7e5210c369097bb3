export { Code, ConnectError } from "@connectrpc/connect";
export { ForgejoInstanceUrlError, ForgejoRpcError, toForgejoError } from "./errors.ts";
export {
  ForgejoClient,
  type ForgejoClientOptions,
  type RegisterInput,
  RUNNER_TOKEN_HEADER,
  RUNNER_UUID_HEADER,
  type RunnerCredentials,
  type UpdateLogInput,
} from "./forgejo-client.ts";
export * from "./gen/ping/v1/messages_pb.ts";
export * from "./gen/ping/v1/services_pb.ts";
export * from "./gen/runner/v1/messages_pb.ts";
export * from "./gen/runner/v1/services_pb.ts";
export { ACTIONS_API_PATH, actionsApiBaseUrl, normaliseInstanceUrl } from "./instance-url.ts";
