import { type JobQueue, newCancelRequest } from "@solstice/common";

// The cancel path every forge runner takes when the forge cancels a job: ask the orchestrators
// (the cancel exchange reaches whichever host runs it), then wait. If none confirms in time (the
// job is still queued, or its host is gone), the runner ends the job itself so that the forge does
// not wait forever.

/** What a cancel needs. */
export interface CancelJobInput {
  readonly queue: Pick<JobQueue, "publishCancel">;
  readonly requestId: string;
  /** Why, as the orchestrator logs it (e.g. `cancelled in Forgejo`). */
  readonly reason: string;
  /** Who asks, e.g. `forgejo-runner@https://codeberg.org`. */
  readonly requestedBy: string;
  /** How long to wait for the job to end before `onNoConfirmation`. Default 120 s. */
  readonly graceMs?: number;
  /** The job did not end within the grace time: report it cancelled. */
  readonly onNoConfirmation: () => void;
  /** The cancel request could not be published (the grace timer still runs). */
  readonly onPublishError: (error: unknown) => void;
}

/** A cancel under way; `confirmed()` when the job ended (clears the fallback). */
export interface PendingCancel {
  confirmed(): void;
}

/** Default time an orchestrator has to confirm a cancel by ending the job. */
export const DEFAULT_CANCEL_GRACE_MS = 120_000;

/** Publishes a cancel request for the job and arms the fallback. */
export function cancelJob(input: CancelJobInput): PendingCancel {
  input.queue
    .publishCancel(
      newCancelRequest({
        request_id: input.requestId,
        reason: input.reason,
        requested_by: input.requestedBy,
      }),
    )
    .catch(input.onPublishError);
  const timer = setTimeout(input.onNoConfirmation, input.graceMs ?? DEFAULT_CANCEL_GRACE_MS);
  return { confirmed: () => clearTimeout(timer) };
}
