import { scopeCoversRepository } from "../rest/entity.ts";
import { labelsCover, type RunnerRecord } from "../runners/runner-registry.ts";
import type { JobEntry } from "./job-record.ts";

// The jobs, and the rules that move them: which queued job a polling runner gets, and when a
// running job whose lock ran out is abandoned.

/** The jobs by id, oldest first. */
export class JobStore {
  readonly #jobs = new Map<string, JobEntry>();
  readonly #listeners = new Set<() => void>();

  add(job: JobEntry): void {
    this.#jobs.set(job.id.toLowerCase(), job);
    this.changed();
  }

  get(id: string): JobEntry | undefined {
    return this.#jobs.get(id.toLowerCase());
  }

  byRunnerRequestId(runnerRequestId: string): JobEntry | undefined {
    return this.list().find((j) => j.runnerRequestId === runnerRequestId);
  }

  list(): JobEntry[] {
    return [...this.#jobs.values()];
  }

  /** The job a runner holds (assigned or running), if any. */
  activeJobOf(runnerId: number): JobEntry | undefined {
    return this.list().find(
      (j) => j.runnerId === runnerId && (j.status === "assigned" || j.status === "running"),
    );
  }

  /** The oldest queued job the runner may run: in its scope, its labels covering `runs-on`. */
  nextQueuedFor(runner: RunnerRecord): JobEntry | undefined {
    return this.list().find(
      (j) =>
        j.status === "queued" &&
        scopeCoversRepository(runner.scope, j.repository) &&
        labelsCover(runner, j.runsOn),
    );
  }

  /** Abandons running jobs whose lock ran out; returns them. */
  expireLocks(now: number): JobEntry[] {
    const expired = this.list().filter(
      (j) => j.status === "running" && j.lockedUntil !== undefined && j.lockedUntil.getTime() <= now,
    );
    for (const job of expired) {
      job.status = "abandoned";
      job.result = "abandoned";
      job.completedAt = new Date(now);
    }
    if (expired.length > 0) this.changed();
    return expired;
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tells the listeners something changed. */
  changed(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
