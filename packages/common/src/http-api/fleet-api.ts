import { z } from "zod";

// `GET /v1/fleet`: every orchestrator host of the fleet as its heartbeats recorded it, and the
// label queues' depth as RabbitMQ reports it (issue 18). Same conventions as
// orchestrator-api.ts: snake_case, RFC 3339 (UTC) timestamps, clients drop unknown fields.

/** A host's state: `up`, `draining` (its stop began), `stale` (no heartbeat for 3 intervals), `stopped`. */
export const FLEET_HOST_STATES = ["up", "draining", "stale", "stopped"] as const;

/** One orchestrator host. */
export const FleetHostViewSchema = z.object({
  host_id: z.string(),
  /** `up`, `draining`, `stale` or `stopped` (a newer orchestrator may add states: kept as text). */
  state: z.string(),
  /** label → jobs at once for that label on this host. */
  labels: z.record(z.string(), z.number()),
  /** Jobs at once on this host, all labels together (MAX_CONCURRENCY). */
  capacity: z.number(),
  running_jobs: z.number(),
  version: z.string().nullable(),
  started_at: z.string(),
  last_seen: z.string(),
  /** Seconds from `last_seen` to the answer's `checked_at`. */
  last_seen_secs: z.number(),
  /** The host's heartbeat interval: it is `stale` after 3 of them without one. */
  heartbeat_secs: z.number(),
  draining_since: z.string().nullable(),
});
/** @see FleetHostViewSchema */
export type FleetHostView = z.infer<typeof FleetHostViewSchema>;

/** A queue's depth as a passive declaration reports it. */
export const FleetQueueDepthSchema = z.object({
  queue: z.string(),
  /** Requests ready for delivery (not those a host holds unacknowledged). */
  messages: z.number(),
  /** Consumers now (orchestrators taking from it). */
  consumers: z.number(),
});
/** @see FleetQueueDepthSchema */
export type FleetQueueDepth = z.infer<typeof FleetQueueDepthSchema>;

/** A label's queue, with the hosts that announce the label (whatever their state). */
export const FleetLabelQueueSchema = FleetQueueDepthSchema.extend({
  label: z.string(),
  /** Host ids whose heartbeat lists the label and whose state is `up` or `draining`. */
  hosts: z.array(z.string()),
});
/** @see FleetLabelQueueSchema */
export type FleetLabelQueue = z.infer<typeof FleetLabelQueueSchema>;

/** `GET /v1/fleet`. */
export const FleetViewSchema = z.object({
  /** When the answering orchestrator read the table and the queues. */
  checked_at: z.string(),
  /** The answering orchestrator. */
  host_id: z.string(),
  hosts: z.array(FleetHostViewSchema),
  /**
   * One per label any host announces or the answering host serves, whose queue exists; by label.
   * Empty when the queues could not be read (`queue_error` says why).
   */
  queues: z.array(FleetLabelQueueSchema),
  /** Labels announced by a host whose queue does not exist (nobody declared it yet). */
  missing_queues: z.array(z.string()).default([]),
  /** The original's queue (requests published without a label route, waiting for a router). */
  original: FleetQueueDepthSchema.nullable(),
  dead_letters: FleetQueueDepthSchema.nullable(),
  /** Why the queue depths are missing (RabbitMQ away); null when they were read. */
  queue_error: z.string().nullable(),
});
/** @see FleetViewSchema */
export type FleetView = z.infer<typeof FleetViewSchema>;
