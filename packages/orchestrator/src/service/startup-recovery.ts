import type { ServiceLogger } from "@solstice/common";
import { type ImageMap, type JobQueue, JobRequestSchema, resolveLabel } from "@solstice/common";
import type { JobRecord } from "../persistence/job-records.ts";
import type { JobStore } from "../persistence/job-store.ts";
import { type RecoveryReport, recoverHost } from "../recovery/recover-host.ts";
import { RESTART_REASON } from "../recovery/recovery-plan.ts";
import { ownerOf, reportJobEnd } from "./job-end-report.ts";
import type { JobRunner } from "./job-runner.ts";

/** What {@link recoverOnStart} needs. */
export interface StartupRecoveryDeps {
  readonly store: JobStore;
  readonly hostId: string;
  /** This host's VM directory (STATE_DIR/vms). */
  readonly vmRoot: string;
  readonly queue: Pick<JobQueue, "publishEvent">;
  readonly runner: JobRunner;
  readonly imageMap: ImageMap;
  readonly logger: ServiceLogger;
}

/**
 * Settles, before any new work, what the previous run under this HOST_ID left (see `recoverHost`):
 * its QEMU processes are stopped, its VM directories removed and its VMs marked destroyed; each
 * unfinished job is requeued here (no step had started, its request is complete) or reported
 * failed with the reason "orchestrator restarted" — to its owner (events continuing its sequence)
 * and in the store. Nothing stays `running`.
 */
export function recoverOnStart(deps: StartupRecoveryDeps): Promise<RecoveryReport> {
  const { store, logger } = deps;
  const report = (job: JobRecord, reason: string, lines: readonly string[]) =>
    reportJobEnd(
      { store, queue: deps.queue, logger },
      { requestId: job.requestId, owner: ownerOf(job.owner) },
      { conclusion: "failure", reason, lines },
    );
  return recoverHost({
    store,
    hostId: deps.hostId,
    vmRoot: deps.vmRoot,
    reportFailed: async (job, reason) => {
      await report(job, reason, [
        reason === RESTART_REASON
          ? "The orchestrator running this job restarted: its VM (and the SSH key to it) did not survive."
          : reason,
        "The job is reported failed; run it again.",
      ]);
    },
    requeue: async (job) => {
      const request = JobRequestSchema.parse(job.request);
      const resolved = resolveLabel(deps.imageMap, request.runs_on);
      if (resolved === undefined) {
        const reason = `no image for label "${request.runs_on ?? deps.imageMap.defaultLabel}" on this orchestrator (${deps.hostId})`;
        await report(job, reason, [`${reason} (the image map changed across the restart).`]);
        return;
      }
      deps.runner.enqueue({ request, label: resolved.label, image: resolved.image, attempt: job.attempt });
    },
    log: {
      info: (fields, message) => logger.info({ ...fields }, message),
      warn: (fields, message) => logger.warn({ ...fields }, message),
    },
  });
}
