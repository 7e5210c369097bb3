// What one round of reporting sends, decided without I/O (the reporter does it, in this order,
// and stops the round at the first failure so that nothing is sent out of order):
// 1. the step records (WorkflowStepsUpdate) when they changed;
// 2. the live lines (best effort, never fails the round);
// 3. the log of each finished step whose log is not uploaded yet;
// 4. once the job is done: the whole job log;
// 5. then completejob. Its acceptance is what ends the job's report (the journal entry and the
//    job token are deleted, the last events acknowledged).

/** The report's state as the plan needs it. */
export interface ReportView {
  readonly stepsChanged: boolean;
  /** Indexes of finished steps whose logs wait for upload. */
  readonly pendingStepLogs: readonly number[];
  readonly done: boolean;
  readonly jobLogUploaded: boolean;
  /** completejob was accepted (or given up). */
  readonly completed: boolean;
  /** Whether lines wait for the live feed (of steps whose logs are not uploaded yet). */
  readonly feeding: boolean;
}

/** One thing to send. */
export type ReportAction =
  | { readonly kind: "steps-update" }
  | { readonly kind: "feed" }
  | { readonly kind: "upload-step-log"; readonly index: number }
  | { readonly kind: "upload-job-log" }
  | { readonly kind: "complete-job" };

/**
 * The actions of the next round.
 *
 * @example
 *   planReport({ stepsChanged: true, pendingStepLogs: [0], done: false, jobLogUploaded: false, completed: false, feeding: true });
 *   // [{kind: "steps-update"}, {kind: "feed"}, {kind: "upload-step-log", index: 0}]
 */
export function planReport(view: ReportView): ReportAction[] {
  if (view.completed) return [];
  const actions: ReportAction[] = [];
  if (view.stepsChanged) actions.push({ kind: "steps-update" });
  if (view.feeding) actions.push({ kind: "feed" });
  for (const index of view.pendingStepLogs) actions.push({ kind: "upload-step-log", index });
  if (!view.done) return actions;
  if (!view.jobLogUploaded) actions.push({ kind: "upload-job-log" });
  actions.push({ kind: "complete-job" });
  return actions;
}
