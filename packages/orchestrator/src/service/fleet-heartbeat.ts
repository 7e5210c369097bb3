import type { ServiceLogger } from "@solstice/common";
import type { FleetHostStore, HostAnnouncement } from "../persistence/fleet-hosts.ts";
import { OutageNotice } from "./outage-notice.ts";

/** What the host says of itself at each beat (read fresh every time). */
export type HeartbeatFacts = Pick<HostAnnouncement, "labels" | "capacity" | "runningJobs">;

/** What a heartbeat needs. */
export interface FleetHeartbeatOptions {
  readonly store: Pick<FleetHostStore, "heartbeat" | "markStopped">;
  readonly hostId: string;
  readonly version: string;
  /** FLEET_HEARTBEAT_SECS, in ms. */
  readonly intervalMs: number;
  readonly facts: () => HeartbeatFacts;
  readonly logger: ServiceLogger;
  /** The clock (tests). */
  readonly now?: (() => Date) | undefined;
}

/**
 * This orchestrator's row in the fleet table: written at start, every interval, when its stop
 * begins (`draining`) and when it ends (`stopped`). A failed write never throws out of the loop:
 * it is logged once per outage and simply tried again at the next tick (the row's `last_seen`
 * ages meanwhile, and readers see the host as stale after 3 intervals).
 *
 * @example
 *   const beat = new FleetHeartbeat({ store, hostId, version, intervalMs: 15_000, facts, logger });
 *   await beat.start();
 *   // ... on SIGTERM:
 *   await beat.draining();
 *   await beat.stop();
 */
export class FleetHeartbeat {
  readonly #options: FleetHeartbeatOptions;
  readonly #now: () => Date;
  readonly #outage = new OutageNotice();
  readonly #startedAt: Date;
  #drainingSince: Date | null = null;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: FleetHeartbeatOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    this.#startedAt = this.#now();
  }

  /** Whether the last write failed (the database is away). */
  get failing(): boolean {
    return this.#outage.failing;
  }

  /** Writes the first beat (a failure is logged, not thrown) and schedules the next ones. */
  async start(): Promise<void> {
    await this.beat();
    this.#schedule();
  }

  /** One beat now (after the one under way, if any); never throws. */
  beat(): Promise<void> {
    this.#inFlight = this.#inFlight.then(() => this.#write());
    return this.#inFlight;
  }

  /** The stop began: the row says `draining` from now on (beats go on while jobs finish). */
  async draining(): Promise<void> {
    if (this.#stopped || this.#drainingSince !== null) return;
    this.#drainingSince = this.#now();
    await this.beat();
  }

  /** No more beats; the row says `stopped`. A failed write is thrown (a shutdown failure). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#inFlight;
    const { store, hostId } = this.#options;
    // A failure is the shutdown's to report (it logs the part that failed and goes on).
    await store.markStopped(hostId, this.#now());
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.beat().then(() => this.#schedule());
    }, this.#options.intervalMs);
    // The heartbeat alone must not keep the process alive.
    this.#timer.unref();
  }

  async #write(): Promise<void> {
    if (this.#stopped) return;
    const { store, hostId, version, intervalMs, logger } = this.#options;
    try {
      await store.heartbeat(
        {
          ...this.#options.facts(),
          hostId,
          version,
          startedAt: this.#startedAt,
          drainingSince: this.#drainingSince,
          heartbeatSecs: Math.max(1, Math.round(intervalMs / 1000)),
        },
        this.#now(),
      );
      const recovered = this.#outage.succeeded();
      if (recovered !== undefined) {
        logger.info({ hostId, failedBeats: recovered.failures }, "fleet heartbeat written again");
      }
    } catch (error) {
      if (this.#outage.failed() === "outage-began") {
        logger.warn(
          { err: error, hostId, retryInMs: intervalMs },
          "fleet heartbeat failed; retrying every interval (logged once per outage)",
        );
      }
    }
  }
}
