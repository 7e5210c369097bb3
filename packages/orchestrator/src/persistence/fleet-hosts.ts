import type { Kysely } from "kysely";
import { z } from "zod";
import type { OrchestratorDatabase } from "./database-schema.ts";

// The fleet table: each orchestrator upserts its own row on start and on every heartbeat, and
// marks it stopped on a clean stop. Whether a host is stale is computed on read from `last_seen`,
// so a host that died without stopping shows as such without anyone having to write for it.

/** How many missed heartbeat intervals make a host `stale`. */
export const STALE_AFTER_INTERVALS = 3;

/** What a host announces about itself. */
export interface HostAnnouncement {
  readonly hostId: string;
  /** label -> capacity for that label. */
  readonly labels: Readonly<Record<string, number>>;
  readonly capacity: number;
  readonly runningJobs: number;
  readonly startedAt: Date;
}

export type HostState = "up" | "stale" | "stopped";

/** One host as the fleet view shows it. */
export interface FleetHost {
  readonly hostId: string;
  readonly labels: Readonly<Record<string, number>>;
  readonly capacity: number;
  readonly runningJobs: number;
  readonly startedAt: Date;
  readonly lastSeen: Date;
  readonly state: HostState;
}

const LabelCapacities = z.record(z.string(), z.number().int().nonnegative());

/** Pure: a host's state at `now`, given its heartbeat interval. */
export function hostState(
  row: { readonly lastSeen: Date; readonly stoppedAt: Date | null },
  now: Date,
  heartbeatMs: number,
): HostState {
  if (row.stoppedAt !== null) return "stopped";
  return now.getTime() - row.lastSeen.getTime() > STALE_AFTER_INTERVALS * heartbeatMs ? "stale" : "up";
}

export class FleetHostStore {
  private readonly db: Kysely<OrchestratorDatabase>;

  constructor(db: Kysely<OrchestratorDatabase>) {
    this.db = db;
  }

  /** Inserts or refreshes the host's row; a restarted host is no longer stopped. */
  async heartbeat(host: HostAnnouncement, now: Date): Promise<void> {
    const labels = JSON.stringify(host.labels);
    await this.db
      .insertInto("fleet_hosts")
      .values({
        host_id: host.hostId,
        labels,
        capacity: host.capacity,
        running_jobs: host.runningJobs,
        started_at: host.startedAt,
        last_seen: now,
        stopped_at: null,
      })
      .onConflict((oc) =>
        oc.column("host_id").doUpdateSet({
          labels,
          capacity: host.capacity,
          running_jobs: host.runningJobs,
          started_at: host.startedAt,
          last_seen: now,
          stopped_at: null,
        }),
      )
      .execute();
  }

  /** Marks the host stopped (a clean stop); a no-op for an unknown host. */
  async markStopped(hostId: string, now: Date): Promise<void> {
    await this.db
      .updateTable("fleet_hosts")
      .set({ stopped_at: now, last_seen: now, running_jobs: 0 })
      .where("host_id", "=", hostId)
      .execute();
  }

  /** Every host, by host id, with its state at `now`. */
  async list(now: Date, heartbeatMs: number): Promise<FleetHost[]> {
    const rows = await this.db.selectFrom("fleet_hosts").selectAll().orderBy("host_id").execute();
    return rows.map((r) => ({
      hostId: r.host_id,
      labels: LabelCapacities.parse(typeof r.labels === "string" ? JSON.parse(r.labels) : r.labels),
      capacity: r.capacity,
      runningJobs: r.running_jobs,
      startedAt: r.started_at,
      lastSeen: r.last_seen,
      state: hostState({ lastSeen: r.last_seen, stoppedAt: r.stopped_at }, now, heartbeatMs),
    }));
  }
}
