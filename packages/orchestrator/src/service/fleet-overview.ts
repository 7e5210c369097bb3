import type { FleetView, JobQueue } from "@solstice/common";
import { fleetLabels, fleetView } from "../http/fleet-views.ts";
import type { FleetHostStore } from "../persistence/fleet-hosts.ts";
import { readQueueDepths } from "./queue-depths.ts";

/** What `fleetOverview` reads. */
export interface FleetOverviewDeps {
  readonly fleet: Pick<FleetHostStore, "list">;
  readonly queue: Pick<JobQueue, "inspectJobQueues">;
  /** The answering host. */
  readonly hostId: string;
  /** The labels this host serves (inspected even before its first beat is stored). */
  readonly servedLabels: readonly string[];
  /** Stale threshold for rows that name no interval of their own. */
  readonly heartbeatMs: number;
  /** How long the queue inspection may take before the answer goes without it (default QUEUE_INSPECT_TIMEOUT_MS, 5 s). */
  readonly queueTimeoutMs?: number | undefined;
  readonly now?: (() => Date) | undefined;
}

/**
 * `GET /v1/fleet`'s source: the fleet table (a database failure fails the request) and the label
 * queues' depth from the broker (a broker away or slow gives the hosts without depths, and
 * `queue_error` says why: the fleet view is most wanted when something is down).
 */
export function fleetOverview(deps: FleetOverviewDeps): () => Promise<FleetView> {
  const now = deps.now ?? (() => new Date());
  return async () => {
    const at = now();
    const hosts = await deps.fleet.list(at, deps.heartbeatMs);
    const labels = fleetLabels(hosts, deps.servedLabels);
    const { value: depths, error } = await readQueueDepths(deps.queue, labels, deps.queueTimeoutMs);
    return fleetView({ hostId: deps.hostId, now: at, hosts, labels, depths, queueError: error });
  };
}
