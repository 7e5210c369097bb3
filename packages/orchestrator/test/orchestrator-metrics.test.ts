import { renderPrometheus } from "@solstice/common";
import { describe, expect, test } from "vitest";
import {
  type MetricsSnapshot,
  OrchestratorMetrics,
  UNKNOWN_LABEL,
} from "../src/http/orchestrator-metrics.ts";
import { CapacityScheduler } from "../src/scheduling/capacity-scheduler.ts";

function snapshot(labels: string[]): MetricsSnapshot {
  const scheduler = new CapacityScheduler<{ label: string }>({
    global: 4,
    perLabel: new Map(),
    known: labels,
  });
  return {
    jobsByState: { accepted: 0, running: 0, finished: 0 },
    vmsByState: { preparing: 0, running: 0, debug_hold: 0, destroyed: 0 },
    capacity: scheduler.inUse(),
  };
}

function lines(metrics: OrchestratorMetrics, labels: string[], prefix: string): string[] {
  return renderPrometheus(metrics.collect(snapshot(labels)))
    .split("\n")
    .filter((line) => line.startsWith(prefix));
}

describe("OrchestratorMetrics", () => {
  const labels = ["ubuntu-24.04", "illumos"];

  test("finished jobs: every label × conclusion at zero from the start, plus unknown-label failures", () => {
    const metrics = new OrchestratorMetrics({ labels });
    expect(lines(metrics, labels, "solstice_jobs_finished_total{")).toEqual([
      'solstice_jobs_finished_total{label="(unknown)",conclusion="failure"} 0',
      'solstice_jobs_finished_total{label="illumos",conclusion="cancelled"} 0',
      'solstice_jobs_finished_total{label="illumos",conclusion="failure"} 0',
      'solstice_jobs_finished_total{label="illumos",conclusion="success"} 0',
      'solstice_jobs_finished_total{label="ubuntu-24.04",conclusion="cancelled"} 0',
      'solstice_jobs_finished_total{label="ubuntu-24.04",conclusion="failure"} 0',
      'solstice_jobs_finished_total{label="ubuntu-24.04",conclusion="success"} 0',
    ]);
  });

  test("a label outside the image map (user input) is counted as the unknown label, not as itself", () => {
    const metrics = new OrchestratorMetrics({ labels });
    metrics.observeFinished({ label: "plan9-from-outer-space", conclusion: "failure" });
    metrics.observeFinished({ label: null, conclusion: "failure" });
    metrics.observeFinished({ label: "illumos", conclusion: "cancelled" });
    const text = lines(metrics, labels, "solstice_jobs_finished_total{");
    expect(text).toContain(`solstice_jobs_finished_total{label="${UNKNOWN_LABEL}",conclusion="failure"} 2`);
    expect(text).toContain('solstice_jobs_finished_total{label="illumos",conclusion="cancelled"} 1');
    expect(text.some((l) => l.includes("plan9"))).toBe(false);
  });

  test("queue wait: a zero series per label; observations land in their bucket", () => {
    const metrics = new OrchestratorMetrics({ labels });
    expect(lines(metrics, labels, "solstice_job_queue_wait_seconds_count")).toEqual([
      'solstice_job_queue_wait_seconds_count{label="ubuntu-24.04"} 0',
      'solstice_job_queue_wait_seconds_count{label="illumos"} 0',
    ]);
    metrics.observeQueueWait({ label: "illumos", seconds: 3 });
    expect(lines(metrics, labels, 'solstice_job_queue_wait_seconds_bucket{label="illumos",le="5"}')).toEqual([
      'solstice_job_queue_wait_seconds_bucket{label="illumos",le="5"} 1',
    ]);
    expect(lines(metrics, labels, 'solstice_job_queue_wait_seconds_bucket{label="illumos",le="1"}')).toEqual([
      'solstice_job_queue_wait_seconds_bucket{label="illumos",le="1"} 0',
    ]);
  });

  test("capacity gauges exist for every label of the image map before any job", () => {
    const metrics = new OrchestratorMetrics({ labels });
    expect(lines(metrics, labels, "solstice_capacity_in_use{")).toEqual([
      'solstice_capacity_in_use{label="illumos"} 0',
      'solstice_capacity_in_use{label="ubuntu-24.04"} 0',
    ]);
    expect(lines(metrics, labels, "solstice_capacity_limit{")).toEqual([
      'solstice_capacity_limit{label="illumos"} 1',
      'solstice_capacity_limit{label="ubuntu-24.04"} 1',
    ]);
  });

  test("publish failures by exchange and code, dead letters by code", () => {
    const metrics = new OrchestratorMetrics({ labels });
    metrics.observePublishFailure({ exchange: "solstice.events", code: "MQ_PUBLISH_TIMEOUT" });
    metrics.observeDeadLetter({ queue: "solstice.jobs.v1.illumos", code: "ORCH_JOB_REQUEST_REFUSED" });
    metrics.observeDeadLetter({ queue: "solstice.jobs.v1", code: "ORCH_JOB_REQUEST_REFUSED" });
    expect(lines(metrics, labels, "solstice_mq_")).toEqual([
      'solstice_mq_publish_failures_total{exchange="solstice.events",code="MQ_PUBLISH_TIMEOUT"} 1',
      'solstice_mq_dead_letters_total{code="ORCH_JOB_REQUEST_REFUSED"} 2',
    ]);
  });

  test("the broker's job queues by kind; without the broker's answer only inspect_ok 0", () => {
    const metrics = new OrchestratorMetrics({ labels });
    const render = (queues: MetricsSnapshot["queues"]) =>
      renderPrometheus(metrics.collect({ ...snapshot(labels), queues }))
        .split("\n")
        .filter((line) => line.startsWith("solstice_queue_"));
    expect(render(undefined)).toEqual([]);
    expect(render({ error: "the broker did not answer within 5000 ms" })).toEqual([
      "solstice_queue_inspect_ok 0",
    ]);
    expect(
      render({
        value: {
          labels: [{ label: "illumos", queue: "solstice.jobs.v1.label.illumos", messages: 3, consumers: 2 }],
          original: { queue: "solstice.jobs.v1", messages: 0, consumers: 2 },
          deadLetters: { queue: "solstice.jobs.v1.dlq", messages: 7, consumers: 0 },
        },
      }),
    ).toEqual([
      "solstice_queue_inspect_ok 1",
      'solstice_queue_messages{queue="solstice.jobs.v1.label.illumos",kind="label"} 3',
      'solstice_queue_messages{queue="solstice.jobs.v1",kind="original"} 0',
      'solstice_queue_messages{queue="solstice.jobs.v1.dlq",kind="dead_letter"} 7',
      'solstice_queue_consumers{queue="solstice.jobs.v1.label.illumos",kind="label"} 2',
      'solstice_queue_consumers{queue="solstice.jobs.v1",kind="original"} 2',
      'solstice_queue_consumers{queue="solstice.jobs.v1.dlq",kind="dead_letter"} 0',
    ]);
  });
});
