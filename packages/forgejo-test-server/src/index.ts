export {
  TestJobNotFoundError,
  TestRepositoryError,
  TestServerClosedError,
  TestServerLookupError,
  TestWaitTimeoutError,
  TestWorkflowError,
} from "./errors.ts";
export {
  type AddTaskInput,
  ForgejoTestServer,
  type ForgejoTestServerOptions,
} from "./forgejo-test-server.ts";
export type { CallRecord, FaultableProcedure, Procedure } from "./rpc/call-log.ts";
export type { RunnerRecord } from "./runners/runner-registry.ts";
export { decideLogWrite, type LogWriteDecision } from "./tasks/log-ack.ts";
export type {
  LogRowRecord,
  TaskNeedRecord,
  TaskRecord,
  TaskStateRecord,
  TaskStatus,
  TaskStepRecord,
} from "./tasks/task-record.ts";
export { describeTask, resultName } from "./tasks/task-record.ts";
export {
  buildSingleJobPayload,
  type SingleJobPayload,
  type SingleJobPayloadInput,
} from "./workflow/single-job-payload.ts";
