export {
  CANCEL_REQUEST_SCHEMA_VERSION,
  type CancelRequest,
  CancelRequestSchema,
  newCancelRequest,
} from "./cancel-request.ts";
export {
  EventReorderer,
  type EventReordererOptions,
  type ReorderOutput,
  type SeqGap,
} from "./event-reorderer.ts";
export { JOB_EVENT_ROUTING_PREFIX, jobEventRoutingKey } from "./event-routing.ts";
export { EventSequencer, type EventSequencerOptions } from "./event-sequencer.ts";
export {
  JOB_EVENT_SCHEMA_VERSION,
  type JobConclusion,
  JobConclusionSchema,
  type JobEvent,
  JobEventSchema,
  type JobEventType,
  type JobFinishedEvent,
  JobFinishedEventSchema,
  type JobStartedEvent,
  JobStartedEventSchema,
  type LogEvent,
  LogEventSchema,
  type LogStream,
  LogStreamSchema,
  type StepConclusion,
  StepConclusionSchema,
  type StepFinishedEvent,
  StepFinishedEventSchema,
  type StepStartedEvent,
  StepStartedEventSchema,
  type UnsequencedJobEvent,
} from "./job-event.ts";
export {
  type Env,
  EnvSchema,
  JOB_REQUEST_SCHEMA_VERSION,
  type JobOwner,
  JobOwnerSchema,
  type JobRequest,
  type JobRequestInput,
  JobRequestSchema,
  type JobStep,
  JobStepSchema,
  type NewJobRequest,
  newJobRequest,
  type OwnerKind,
  OwnerKindSchema,
  RequestIdSchema,
  type SourceSystem,
  SourceSystemSchema,
  type WorkflowJobFields,
} from "./job-request.ts";
export { formatIssuePath, parseMessage, parseMessageText, toMessageIssues } from "./parse-message.ts";
export { CompatTimestampSchema, isRfc3339, nowRfc3339, Rfc3339Schema } from "./timestamp.ts";
