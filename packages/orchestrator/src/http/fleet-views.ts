import type { FleetHostView, FleetView, JobQueueDepths, QueueStats } from "@solstice/common";
import type { FleetHost } from "../persistence/fleet-hosts.ts";

// `GET /v1/fleet` from what the fleet table and RabbitMQ said: pure, so the shape is tested
// without either.

/** Most label queues one answer inspects (each is a passive declaration on the broker). */
export const MAX_FLEET_LABELS = 500;

/** Hosts in these states take (or finish) jobs of their labels. */
const SERVING_STATES: ReadonlySet<string> = new Set(["up", "draining"]);

/**
 * The labels whose queues the fleet view inspects: every label a host announces (stopped and
 * stale ones too: their requests wait in the queue) and every label the answering host serves,
 * sorted, at most MAX_FLEET_LABELS.
 */
export function fleetLabels(hosts: readonly FleetHost[], served: Iterable<string>): string[] {
  const labels = new Set<string>(served);
  for (const host of hosts) for (const label of Object.keys(host.labels)) labels.add(label);
  return [...labels].sort().slice(0, MAX_FLEET_LABELS);
}

/** One host as the API shows it; `last_seen_secs` counted from `now`. */
export function fleetHostView(host: FleetHost, now: Date): FleetHostView {
  return {
    host_id: host.hostId,
    state: host.state,
    labels: { ...host.labels },
    capacity: host.capacity,
    running_jobs: host.runningJobs,
    version: host.version,
    started_at: host.startedAt.toISOString(),
    last_seen: host.lastSeen.toISOString(),
    last_seen_secs: Math.max(0, Math.round((now.getTime() - host.lastSeen.getTime()) / 1000)),
    heartbeat_secs: host.heartbeatSecs,
    draining_since: host.drainingSince?.toISOString() ?? null,
  };
}

/** What `fleetView` is made from. */
export interface FleetFacts {
  readonly hostId: string;
  readonly now: Date;
  readonly hosts: readonly FleetHost[];
  /** The labels that were inspected (`fleetLabels`). */
  readonly labels: readonly string[];
  /** The queues' depths; undefined when RabbitMQ could not be asked (`queueError` says why). */
  readonly depths: JobQueueDepths | undefined;
  readonly queueError?: string | undefined;
}

/**
 * The `GET /v1/fleet` answer: the hosts, and each inspected label's queue with the hosts that
 * serve it now; labels a host announces whose queue does not exist are listed apart.
 *
 * @example
 *   fleetView({ hostId: "a", now, hosts, labels: ["ubuntu"], depths })
 *   // { hosts: [...], queues: [{ label: "ubuntu", queue: "solstice.jobs.v1.label.ubuntu",
 *   //   messages: 3, consumers: 2, hosts: ["a", "b"] }], ... }
 */
export function fleetView(facts: FleetFacts): FleetView {
  const serving = (label: string) =>
    facts.hosts.filter((h) => SERVING_STATES.has(h.state) && label in h.labels).map((h) => h.hostId);
  const found = new Map((facts.depths?.labels ?? []).map((q) => [q.label, q]));
  return {
    checked_at: facts.now.toISOString(),
    host_id: facts.hostId,
    hosts: facts.hosts.map((h) => fleetHostView(h, facts.now)),
    queues: facts.labels.flatMap((label) => {
      const q = found.get(label);
      return q === undefined
        ? []
        : [{ label, queue: q.queue, messages: q.messages, consumers: q.consumers, hosts: serving(label) }];
    }),
    missing_queues: facts.depths === undefined ? [] : facts.labels.filter((label) => !found.has(label)),
    original: depthView(facts.depths?.original),
    dead_letters: depthView(facts.depths?.deadLetters),
    queue_error: facts.depths === undefined ? (facts.queueError ?? "the queues were not inspected") : null,
  };
}

function depthView(stats: QueueStats | undefined): FleetView["original"] {
  return stats === undefined
    ? null
    : { queue: stats.queue, messages: stats.messages, consumers: stats.consumers };
}
