import type { Kysely } from "kysely";
import { z } from "zod";
import type { OrchestratorDatabase } from "./database-schema.ts";

// The fleet table: each orchestrator upserts its own row on start and on every heartbeat (marked
// draining once its stop begins), and marks it stopped on a clean stop. Whether a host is stale is computed on read from `last_seen`,
// so a host that died without stopping shows as such without anyone having to write for it.

/** How many missed heartbeat intervals make a host `stale`. */
export const STALE_AFTER_INTERVALS = 3;
/** Most hosts the fleet view lists (a bound on what one answer reads). */
export const MAX_FLEET_HOSTS = 1_000;

/** What a host announces about itself. */
export interface HostAnnouncement {
  readonly hostId: string;
  /** label -> capacity for that label. */
  readonly labels: Readonly<Record<string, number>>;
  readonly capacity: number;
  readonly runningJobs: number;
  readonly startedAt: Date;
  /** The orchestrator's version (package.json). */
  readonly version?: string | null | undefined;
  /** When its stop began; null/undefined while it takes jobs. */
  readonly drainingSince?: Date | null | undefined;
  /** Its heartbeat interval: it is stale after STALE_AFTER_INTERVALS of them without one. */
  readonly heartbeatSecs?: number | undefined;
}

/**
 * `up`: heartbeats arrive; `draining`: its stop began (no new jobs, running ones finish);
 * `stale`: no heartbeat for more than STALE_AFTER_INTERVALS intervals (it died or lost the
 * database; its row is kept); `stopped`: it stopped cleanly.
 */
export type HostState = "up" | "draining" | "stale" | "stopped";

/** One host as the fleet view shows it. */
export interface FleetHost {
  readonly hostId: string;
  readonly labels: Readonly<Record<string, number>>;
  readonly capacity: number;
  readonly runningJobs: number;
  readonly startedAt: Date;
  readonly lastSeen: Date;
  readonly version: string | null;
  readonly drainingSince: Date | null;
  /** The host's own interval (else the reader's, for rows written before migration 0007). */
  readonly heartbeatSecs: number;
  readonly state: HostState;
}

const LabelCapacities = z.record(z.string(), z.number().int().nonnegative());

/**
 * Pure: a host's state at `now`, given its heartbeat interval. A clean stop wins; a host whose
 * heartbeats stopped is `stale` even while draining (it may have died mid-drain).
 */
export function hostState(
  row: { readonly lastSeen: Date; readonly stoppedAt: Date | null; readonly drainingSince?: Date | null },
  now: Date,
  heartbeatMs: number,
): HostState {
  if (row.stoppedAt !== null) return "stopped";
  if (now.getTime() - row.lastSeen.getTime() > STALE_AFTER_INTERVALS * heartbeatMs) return "stale";
  return row.drainingSince === null || row.drainingSince === undefined ? "up" : "draining";
}

export class FleetHostStore {
  private readonly db: Kysely<OrchestratorDatabase>;

  constructor(db: Kysely<OrchestratorDatabase>) {
    this.db = db;
  }

  /** Inserts or refreshes the host's row; a restarted host is no longer stopped (nor draining). */
  async heartbeat(host: HostAnnouncement, now: Date): Promise<void> {
    // The same columns on insert and on refresh.
    const row = {
      labels: JSON.stringify(host.labels),
      capacity: host.capacity,
      running_jobs: host.runningJobs,
      started_at: host.startedAt,
      last_seen: now,
      stopped_at: null,
      version: host.version ?? null,
      draining_since: host.drainingSince ?? null,
      heartbeat_secs: host.heartbeatSecs ?? null,
    };
    await this.db
      .insertInto("fleet_hosts")
      .values({ host_id: host.hostId, ...row })
      .onConflict((oc) => oc.column("host_id").doUpdateSet(row))
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

  /**
   * Every host (at most MAX_FLEET_HOSTS), by host id, with its state at `now`: stale after
   * STALE_AFTER_INTERVALS of its own heartbeat interval (`heartbeatMs` for rows that name none).
   */
  async list(now: Date, heartbeatMs: number): Promise<FleetHost[]> {
    const rows = await this.db
      .selectFrom("fleet_hosts")
      .selectAll()
      .orderBy("host_id")
      .limit(MAX_FLEET_HOSTS)
      .execute();
    return rows.map((r) => {
      const hostHeartbeatMs = r.heartbeat_secs === null ? heartbeatMs : r.heartbeat_secs * 1000;
      return {
        hostId: r.host_id,
        labels: LabelCapacities.parse(typeof r.labels === "string" ? JSON.parse(r.labels) : r.labels),
        capacity: r.capacity,
        runningJobs: r.running_jobs,
        startedAt: r.started_at,
        lastSeen: r.last_seen,
        version: r.version,
        drainingSince: r.draining_since,
        heartbeatSecs: hostHeartbeatMs / 1000,
        state: hostState(
          { lastSeen: r.last_seen, stoppedAt: r.stopped_at, drainingSince: r.draining_since },
          now,
          hostHeartbeatMs,
        ),
      };
    });
  }
}
