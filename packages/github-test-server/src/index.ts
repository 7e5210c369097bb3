// Public API of @solstice/github-test-server.
export { type RsaAlgorithm, signRsa } from "./auth/jwt.ts";
export { publicKeyFromXml, publicKeyToXml, rsaParametersJson } from "./auth/rsa-key-xml.ts";
export type { MessageRecord } from "./broker/message-queue.ts";
export type { SessionRecord } from "./broker/session-registry.ts";
export {
  TestConfigError,
  TestJobNotFoundError,
  TestRepositoryError,
  TestServerClosedError,
  TestServerLookupError,
  TestWaitTimeoutError,
  TestWorkflowError,
} from "./errors.ts";
export { type FeedFrame, parseFeedFrame } from "./feed/feed-frame.ts";
export { type AddJobInput, GitHubTestServer, type GitHubTestServerOptions } from "./github-test-server.ts";
export type { CallRecord, Fault } from "./http/call-log.ts";
export { ENDPOINTS, type Endpoint } from "./http/endpoints.ts";
export { MESSAGE_TYPES } from "./jobs/job-dispatch.ts";
export {
  type CompletionRecord,
  describeJob,
  type FeedLineRecord,
  type FeedRejection,
  type JobConclusion,
  type JobRecord,
  type JobStatus,
  type LegacyLogRecord,
  type LogMetadataRecord,
  type PlanEventRecord,
  type StepUpdateRecord,
  type TimelineRecordState,
  type TimelineUpdateRecord,
} from "./jobs/job-record.ts";
export {
  encryptMessageBody,
  newSessionKey,
  wrapSessionKey,
} from "./legacy/message-encryption.ts";
export type { AccessTokenGrant } from "./oauth/oauth-endpoint.ts";
export type { RepositoryRecord } from "./repositories/repository-registry.ts";
export { decodeJitConfig } from "./rest/jit-config.ts";
export type { BlobChunk, BlobKind, BlobRecord } from "./results/append-blob-store.ts";
export { CONCLUSION_NAMES, STATUS_NAMES } from "./results/step-updates.ts";
export type { RunnerLabel, RunnerRecord } from "./runners/runner-registry.ts";
export type { ServerUrls } from "./server-context.ts";
export { type ContextDataJson, fromContextData, toContextData } from "./workflow/context-data-json.ts";
export { type TokenJson, tokenToJson } from "./workflow/template-token-json.ts";
