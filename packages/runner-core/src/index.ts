// Public API of @solstice/runner-core: what every forge runner shares, with no forge in it.
export {
  type CancelJobInput,
  cancelJob,
  DEFAULT_CANCEL_GRACE_MS,
  type PendingCancel,
} from "./cancel/cancel-job.ts";
export {
  NoRunnerLabelsError,
  RunnerHttpAddrError,
  RunnerHttpListenError,
  RunnerLabelError,
} from "./errors.ts";
export { JobEventRouter, type RoutedJob, type RouteOutcome } from "./events/job-event-router.ts";
export {
  type HealthServer,
  type HealthServerOptions,
  type ReadinessProbe,
  startHealthServer,
  startRunnerHealthServer,
} from "./health/health-server.ts";
export { type HttpAddr, parseHttpAddr } from "./health/http-addr.ts";
export {
  FORGE_CALL_BUCKETS,
  type ForgeCall,
  RunnerMetrics,
  type RunnerSnapshot,
} from "./health/runner-metrics.ts";
export { type JournalEntry, TaskJournal } from "./journal/task-journal.ts";
export { type LabelSources, resolveRunnerLabels } from "./labels/labels-source.ts";
export {
  formatRunnerLabel,
  labelNames,
  parseRunnerLabel,
  parseRunnerLabels,
  type RunnerLabel,
} from "./labels/runner-labels.ts";
export { base64Forms, maskValues } from "./masking/mask-values.ts";
export { CapacitySlots } from "./slots/capacity-slots.ts";
