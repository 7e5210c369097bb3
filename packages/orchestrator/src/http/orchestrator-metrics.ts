import type { JobState, VmState } from "../persistence/job-records.ts";
import type { CapacitySnapshot } from "../scheduling/capacity-scheduler.ts";
import { Histogram } from "./histogram.ts";
import type { MetricFamily } from "./prometheus-text.ts";

/** Job duration buckets, seconds: CI jobs last from seconds to hours. */
export const JOB_DURATION_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400];
/** VM boot (start to SSH reachable) buckets, seconds: a fast guest under KVM to a cloud-init guest under TCG. */
export const BOOT_DURATION_BUCKETS = [1, 2, 5, 10, 20, 30, 45, 60, 120, 300, 600];

/** Warm restore (QEMU start to the job's key installed) buckets, seconds. */
export const RESTORE_DURATION_BUCKETS = [0.5, 1, 2, 3, 5, 10, 20, 30, 60];

/** What a scrape reads at that moment (from the store and the scheduler). */
export interface MetricsSnapshot {
  readonly jobsByState: Readonly<Record<JobState, number>>;
  readonly vmsByState: Readonly<Record<VmState, number>>;
  readonly capacity: CapacitySnapshot;
}

/**
 * The orchestrator's metrics. Durations are observed by the service as jobs end and VMs boot;
 * counts are read at scrape time (`collect`). Every series is for this host only, so that a
 * fleet's Prometheus can sum hosts without counting twice.
 *
 * @example
 *   metrics.observeJob({ label: "ubuntu-24.04", conclusion: "success", seconds: 93.4 });
 */
export class OrchestratorMetrics {
  readonly #jobDuration = new Histogram(JOB_DURATION_BUCKETS);
  readonly #bootDuration = new Histogram(BOOT_DURATION_BUCKETS);
  readonly #intake = new Map<string, number>();
  readonly #restoreDuration = new Histogram(RESTORE_DURATION_BUCKETS);
  /** `label\nkind` → count. */
  readonly #starts = new Map<string, number>();
  /** `label\noutcome` → count. */
  readonly #templateBuilds = new Map<string, number>();

  /**
   * A job request was taken from the queue: `accepted` (recorded, scheduled), `duplicate` (its
   * request id was already recorded: a redelivery, not run again), `unknown_label` (reported
   * failed), `cancelled` (a cancel request had arrived first), `refused` (over a limit, or a field no
   * VM could use: dead-lettered).
   */
  observeIntake(outcome: string): void {
    this.#intake.set(outcome, (this.#intake.get(outcome) ?? 0) + 1);
  }

  /** A job ended: how long it ran (from start to finish), by label and conclusion. */
  observeJob(fields: { label: string; conclusion: string; seconds: number }): void {
    this.#jobDuration.observe(fields.seconds, { label: fields.label, conclusion: fields.conclusion });
  }

  /** A VM became reachable over SSH: how long that took from QEMU's start, by label. */
  observeBoot(fields: { label: string; seconds: number }): void {
    this.#bootDuration.observe(fields.seconds, { label: fields.label });
  }

  /**
   * What the warm templates reported (`WarmEvent` of @solstice/vm-engine): a VM started warm, cold
   * or by fallback (with the restore's seconds when warm), or a template build ended.
   */
  observeWarm(
    event:
      | { type: "start"; label: string; kind: string; restoreSeconds?: number | undefined }
      | { type: "build"; label: string; ok: boolean; seconds: number },
  ): void {
    if (event.type === "start") {
      const key = `${event.label}\n${event.kind}`;
      this.#starts.set(key, (this.#starts.get(key) ?? 0) + 1);
      if (event.restoreSeconds !== undefined)
        this.#restoreDuration.observe(event.restoreSeconds, { label: event.label });
    } else {
      const key = `${event.label}\n${event.ok ? "ok" : "failed"}`;
      this.#templateBuilds.set(key, (this.#templateBuilds.get(key) ?? 0) + 1);
    }
  }

  /** Every metric family, ready for `renderPrometheus`. */
  collect(snapshot: MetricsSnapshot): MetricFamily[] {
    const labels = Object.entries(snapshot.capacity.labels);
    return [
      {
        type: "gauge",
        name: "solstice_jobs",
        help: "Jobs recorded for this host, by state.",
        samples: Object.entries(snapshot.jobsByState).map(([state, value]) => ({ labels: { state }, value })),
      },
      {
        type: "gauge",
        name: "solstice_vms",
        help: "VMs recorded for this host, by state.",
        samples: Object.entries(snapshot.vmsByState).map(([state, value]) => ({ labels: { state }, value })),
      },
      {
        type: "gauge",
        name: "solstice_vms_running",
        help: "VMs running on this host (including those kept for debug SSH).",
        samples: [{ value: snapshot.vmsByState.running + snapshot.vmsByState.debug_hold }],
      },
      {
        type: "gauge",
        name: "solstice_capacity_in_use",
        help: "Jobs running on this host, by label.",
        samples: labels.map(([label, c]) => ({ labels: { label }, value: c.inUse })),
      },
      {
        type: "gauge",
        name: "solstice_capacity_limit",
        help: "Jobs this host runs at most at once, by label (CAPACITY_MAP; unlisted labels 1).",
        samples: labels.map(([label, c]) => ({ labels: { label }, value: c.limit })),
      },
      {
        type: "gauge",
        name: "solstice_jobs_waiting",
        help: "Accepted jobs waiting for capacity on this host, by label.",
        samples: labels.map(([label, c]) => ({ labels: { label }, value: c.queued })),
      },
      {
        type: "gauge",
        name: "solstice_capacity_global_in_use",
        help: "Jobs running on this host, all labels.",
        samples: [{ value: snapshot.capacity.inUse }],
      },
      {
        type: "gauge",
        name: "solstice_capacity_global_limit",
        help: "Jobs this host runs at most at once, all labels (MAX_CONCURRENCY).",
        samples: [{ value: snapshot.capacity.limit }],
      },
      {
        type: "counter",
        name: "solstice_job_requests_total",
        help: "Job requests taken from the queue by this process, by outcome (accepted, duplicate, unknown_label, cancelled, refused).",
        samples: [...this.#intake].sort().map(([outcome, value]) => ({ labels: { outcome }, value })),
      },
      {
        type: "histogram",
        name: "solstice_job_duration_seconds",
        help: "How long jobs ran, from start to finish, by label and conclusion.",
        buckets: JOB_DURATION_BUCKETS,
        series: this.#jobDuration.series(),
      },
      {
        type: "histogram",
        name: "solstice_vm_boot_duration_seconds",
        help: "How long VMs took from QEMU start to SSH reachable, by label.",
        buckets: BOOT_DURATION_BUCKETS,
        series: this.#bootDuration.series(),
      },
      {
        type: "counter",
        name: "solstice_vm_starts_total",
        help: "VMs started for jobs, by label and kind (warm: restored from a template; cold: booted; fallback: a failed restore, then booted).",
        samples: pairSamples(this.#starts, "kind"),
      },
      {
        type: "histogram",
        name: "solstice_vm_restore_duration_seconds",
        help: "How long warm restores took, from prepare to the job's key installed, by label.",
        buckets: RESTORE_DURATION_BUCKETS,
        series: this.#restoreDuration.series(),
      },
      {
        type: "counter",
        name: "solstice_warm_template_builds_total",
        help: "Warm template builds, by label and outcome (ok, failed).",
        samples: pairSamples(this.#templateBuilds, "outcome"),
      },
    ];
  }
}

function pairSamples(
  counts: ReadonlyMap<string, number>,
  second: string,
): { labels: Record<string, string>; value: number }[] {
  return [...counts].sort().map(([key, value]) => {
    const [label = "", other = ""] = key.split("\n");
    return { labels: { label, [second]: other }, value };
  });
}
