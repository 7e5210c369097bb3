import { Result } from "@solstice/forgejo-protocol";
import { sameSecret } from "../random-tokens.ts";
import type { RunnerRecord } from "../runners/runner-registry.ts";
import type { TaskEntry } from "./task-record.ts";

// The tasks of the instance and its tasks_version (models/actions/tasks_version.go): a counter
// bumped whenever there may be new work (a task added or cancelled). FetchTask compares it with
// the runner's version and only looks for a task when they differ; a stored 0 is bumped before
// answering, so a runner never sees 0 (0 would mean an old server to it).

/** The tasks, their version counter, and who wants to hear about changes. */
export class TaskStore {
  readonly #tasks = new Map<bigint, TaskEntry>();
  readonly #listeners = new Set<() => void>();
  #version = 0n;
  #nextId = 1n;

  /** The id the next task gets. */
  nextId(): bigint {
    return this.#nextId++;
  }

  /** Adds a waiting task and bumps the version. */
  add(task: TaskEntry): void {
    this.#tasks.set(task.id, task);
    this.bumpVersion();
  }

  /** Forgejo's IncreaseTaskVersion. */
  bumpVersion(): void {
    this.#version++;
    this.changed();
  }

  /** The version FetchTask answers: the stored one, bumped first when it is 0. */
  latestVersion(): bigint {
    if (this.#version === 0n) this.#version++;
    return this.#version;
  }

  /**
   * Forgejo's CreateTaskForRunner: the oldest waiting task whose `runs-on` labels are all among
   * the runner's labels is assigned to the runner and starts running. An ephemeral runner gets
   * no second task.
   */
  pick(runner: RunnerRecord, now: Date): TaskEntry | undefined {
    if (runner.ephemeral && [...this.#tasks.values()].some((t) => t.runnerId === runner.id)) return undefined;
    for (const task of this.#tasks.values()) {
      if (task.status !== "waiting" || !runsOn(task.runsOn, runner.labels)) continue;
      task.status = "running";
      task.runnerId = runner.id;
      task.runnerUuid = runner.uuid;
      task.state.startedAt = now;
      task.state.steps = task.stepNames.map((name, id) => ({
        id,
        name,
        result: Result.UNSPECIFIED,
        logIndex: 0,
        logLength: 0,
      }));
      this.changed();
      return task;
    }
    return undefined;
  }

  get(id: bigint): TaskEntry | undefined {
    return this.#tasks.get(id);
  }

  /** The running task whose token this is (Forgejo's GetRunningTaskByToken). */
  runningTaskByToken(token: string): TaskEntry | undefined {
    if (!/^[0-9a-f]{40}$/.test(token)) return undefined;
    for (const task of this.#tasks.values()) {
      if (task.status === "running" && sameSecret(task.token, token)) return task;
    }
    return undefined;
  }

  /** Tells every listener that some task changed. */
  changed(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  /** Calls `listener` after every change until the returned function is called. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** Forgejo's ItRunsOn: every `runs-on` label among the runner's; nothing runs on no labels. */
export function runsOn(jobLabels: readonly string[], runnerLabels: readonly string[]): boolean {
  if (jobLabels.length === 0 || runnerLabels.length === 0) return false;
  const have = new Set(runnerLabels);
  return jobLabels.every((label) => have.has(label));
}
