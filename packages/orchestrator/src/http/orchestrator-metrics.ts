import {
  Counter,
  type DeadLettering,
  Histogram,
  JobConclusionSchema,
  type MetricFamily,
  type PublishFailure,
} from "@solstice/common";
import type { JobState, VmState } from "../persistence/job-records.ts";
import type { CapacitySnapshot } from "../scheduling/capacity-scheduler.ts";
import type { QueueDepthsReading } from "../service/queue-depths.ts";

/** Job duration buckets, seconds: CI jobs last from seconds to hours. */
export const JOB_DURATION_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400];
/** VM boot (start to SSH reachable) buckets, seconds: a fast guest under KVM to a cloud-init guest under TCG. */
export const BOOT_DURATION_BUCKETS = [1, 2, 5, 10, 20, 30, 45, 60, 120, 300, 600];

/** Warm restore (QEMU start to the job's key installed) buckets, seconds. */
export const RESTORE_DURATION_BUCKETS = [0.5, 1, 2, 3, 5, 10, 20, 30, 60];

/**
 * Queue wait (accepted to started: capacity granted) buckets, seconds: none on an idle host, up to
 * hours behind a long queue.
 */
export const QUEUE_WAIT_BUCKETS = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * The `label` value of jobs whose label is not one of the image map's (what they asked is user
 * input: as a label value it would make series without bound).
 */
export const UNKNOWN_LABEL = "(unknown)";

/** Settings of {@link OrchestratorMetrics}. */
export interface OrchestratorMetricsOptions {
  /** The image map's labels: their series exist, at zero, from the start. */
  readonly labels?: Iterable<string> | undefined;
}

/** What a scrape reads at that moment (from the store and the scheduler). */
export interface MetricsSnapshot {
  readonly jobsByState: Readonly<Record<JobState, number>>;
  readonly vmsByState: Readonly<Record<VmState, number>>;
  readonly capacity: CapacitySnapshot;
  /** The job queues on the broker; undefined: not inspected (no broker to ask). */
  readonly queues?: QueueDepthsReading | undefined;
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
  readonly #labels: ReadonlySet<string>;
  readonly #finished = new Counter();
  readonly #queueWait = new Histogram(QUEUE_WAIT_BUCKETS);
  readonly #publishFailures = new Counter();
  readonly #deadLetters = new Counter();
  readonly #jobDuration = new Histogram(JOB_DURATION_BUCKETS);
  readonly #bootDuration = new Histogram(BOOT_DURATION_BUCKETS);
  readonly #intake = new Map<string, number>();
  readonly #restoreDuration = new Histogram(RESTORE_DURATION_BUCKETS);
  /** `label\nkind` → count. */
  readonly #starts = new Map<string, number>();
  /** `label\noutcome` → count. */
  readonly #templateBuilds = new Map<string, number>();

  constructor(options: OrchestratorMetricsOptions = {}) {
    this.#labels = new Set(options.labels ?? []);
    for (const label of this.#labels) {
      for (const conclusion of JobConclusionSchema.options) this.#finished.declare({ label, conclusion });
      this.#queueWait.declare({ label });
    }
    this.#finished.declare({ label: UNKNOWN_LABEL, conclusion: "failure" });
  }

  /**
   * A job ended, whether it ran or not (refused, unknown label, cancelled while queued, left by a
   * crash): its label (null or not the image map's: {@link UNKNOWN_LABEL}) and the conclusion its
   * owner got.
   */
  observeFinished(fields: { label: string | null; conclusion: string }): void {
    const label = fields.label !== null && this.#labels.has(fields.label) ? fields.label : UNKNOWN_LABEL;
    this.#finished.inc({ label, conclusion: fields.conclusion });
  }

  /** A job got its capacity and started: how long it waited since it was accepted. */
  observeQueueWait(fields: { label: string; seconds: number }): void {
    this.#queueWait.observe(Math.max(0, fields.seconds), { label: fields.label });
  }

  /** A publish of this process failed (see `watchQueueDiagnostics`). */
  observePublishFailure(failure: PublishFailure): void {
    this.#publishFailures.inc({ exchange: failure.exchange, code: failure.code });
  }

  /** This process dead-lettered a message (see `watchQueueDiagnostics`). */
  observeDeadLetter(event: DeadLettering): void {
    this.#deadLetters.inc({ code: event.code });
  }

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
        type: "counter",
        name: "solstice_jobs_finished_total",
        help: `Jobs ended by this host, by label and conclusion, including those that never started (refused, unknown label: label "${UNKNOWN_LABEL}", cancelled while queued).`,
        samples: this.#finished.samples(),
      },
      {
        type: "histogram",
        name: "solstice_job_queue_wait_seconds",
        help: "How long jobs waited from accepted to started (capacity granted; image fetch and boot not included), by label.",
        buckets: QUEUE_WAIT_BUCKETS,
        series: this.#queueWait.series(),
      },
      {
        type: "counter",
        name: "solstice_mq_publish_failures_total",
        help: "Publishes of this process that the broker did not confirm, by exchange and error code (job events: the events exchange).",
        samples: this.#publishFailures.samples(),
      },
      {
        type: "counter",
        name: "solstice_mq_dead_letters_total",
        help: "Messages this process sent to the dead-letter queue, by reason code.",
        samples: this.#deadLetters.samples(),
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
      ...queueFamilies(snapshot.queues),
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

/**
 * The broker's job queues as every host sees them (the same numbers from each: aggregate with
 * max, not sum). Without an answer from the broker only `solstice_queue_inspect_ok 0` is given.
 */
function queueFamilies(reading: QueueDepthsReading | undefined): MetricFamily[] {
  if (reading === undefined) return [];
  const depths = reading.value;
  const queues =
    depths === undefined
      ? []
      : [
          ...depths.labels.map((q) => ({ ...q, kind: "label" })),
          ...(depths.original === undefined ? [] : [{ ...depths.original, kind: "original" }]),
          ...(depths.deadLetters === undefined ? [] : [{ ...depths.deadLetters, kind: "dead_letter" }]),
        ];
  return [
    {
      type: "gauge",
      name: "solstice_queue_inspect_ok",
      help: "Whether the broker answered this scrape's inspection of the job queues (1) or not (0).",
      samples: [{ value: depths === undefined ? 0 : 1 }],
    },
    {
      type: "gauge",
      name: "solstice_queue_messages",
      help: "Messages ready in the broker's job queues, by queue and kind (label, original, dead_letter); the same on every host.",
      samples: queues.map((q) => ({ labels: { queue: q.queue, kind: q.kind }, value: q.messages })),
    },
    {
      type: "gauge",
      name: "solstice_queue_consumers",
      help: "Consumers of the broker's job queues, by queue and kind; the same on every host.",
      samples: queues.map((q) => ({ labels: { queue: q.queue, kind: q.kind }, value: q.consumers })),
    },
  ];
}
