// @solstice/ciadm as a library: the HTTP API client and what the CLI's commands are made of.
export {
  checkIdPrefix,
  type IdCandidate,
  IdPrefixError,
  isFullRequestId,
  JobIdAmbiguousError,
  JobIdNotFoundError,
  MAX_PREFIX_SCAN,
  MIN_ID_PREFIX,
  matchIdPrefix,
} from "./api/id-prefix.ts";
export { type JobQuery, OrchestratorClient } from "./api/orchestrator-client.ts";
export { type ServerSentEvent, SseParser } from "./api/sse-parser.ts";
export {
  type ApiTarget,
  addApiOptions,
  apiTarget,
  CHECKOUT_IMAGE_MAP,
  DEFAULT_ORCH_URL,
} from "./cli/connection-options.ts";
export {
  ApiError,
  ApiResponseError,
  ApiUnreachableError,
  CiadmError,
  RefNotFoundError,
  UsageError,
} from "./errors.ts";
export { followJob } from "./follow/follow-job.ts";
export {
  hostSideUrl,
  isLocalDirectory,
  type ServedRepository,
  serveLocalRepository,
} from "./git/local-repository.ts";
export { resolveRef } from "./git/ls-remote.ts";
export { checkBroker, checkDatabase, checkOrchestrator, type HealthCheck } from "./health/health-checks.ts";
export { deadLetterJson, formatDeadLetters } from "./output/dead-letter-text.ts";
export { formatImageTable, type ImageRow, imageRows } from "./output/image-text.ts";
export { formatJobStatus, formatJobTable, jobResult, LogText, shortTime } from "./output/job-text.ts";
export { textTable } from "./output/text-table.ts";
export { buildProgram } from "./program.ts";
export { withQueue } from "./queue/connect-queue.ts";
