import type { JobQueue, JobRequest, ServiceLogger } from "@solstice/common";
import { JobEventEmitter } from "@solstice/vm-engine";

/**
 * Tells a refused request's owner why its job will not run: one `system` line and `job_finished`
 * (`failure`, the reason), numbered from 0 since nothing of the job was recorded or sent before.
 * Without it a forge would wait for a job that never starts. Best effort: a failed publish is
 * logged (the dead letter still says why).
 *
 * @example
 *   await reportRefusal({ queue, logger }, request, "steps: 5000 steps, more than the 1000 a job may have");
 */
export async function reportRefusal(
  deps: { readonly queue: Pick<JobQueue, "publishEvent">; readonly logger: ServiceLogger },
  request: JobRequest,
  reason: string,
): Promise<void> {
  const events = new JobEventEmitter(
    request.request_id,
    (event) => deps.queue.publishEvent(event, request.owner),
    { mask: request.mask, logger: deps.logger },
  );
  events.system(`Solstice CI refused this job: ${reason}`);
  events.jobFinished("failure", `job request refused: ${reason}`);
  await events.flush();
}
