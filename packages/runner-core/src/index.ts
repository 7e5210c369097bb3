// Public API of @solstice/runner-core: what every forge runner shares, with no forge in it.
export {
  type CancelJobInput,
  cancelJob,
  DEFAULT_CANCEL_GRACE_MS,
  type PendingCancel,
} from "./cancel/cancel-job.ts";
export { NoRunnerLabelsError, RunnerLabelError } from "./errors.ts";
export { JobEventRouter, type RoutedJob, type RouteOutcome } from "./events/job-event-router.ts";
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
