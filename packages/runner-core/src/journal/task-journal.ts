import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { z } from "zod";

// One small JSON file per running task, so that a restarted runner resumes every task where the
// forge has it. What an entry holds is the forge runner's (its schema is passed in): which job
// (request id) feeds the task, how much of its log the forge holds, the step states, and from
// which event on the job's durable event queue must be replayed. Never secrets: log lines are not
// written here (they wait in the event queue), tokens neither.

/** What every journal entry has: the task's id, a file name (digits, or a UUID-like word). */
export interface JournalEntry {
  readonly taskId: string;
}

const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Saves started by this process: with its pid, each save's temporary file has a name of its own. */
let saves = 0;

/** The running tasks' journal, one file per task in `dir`, each checked against `schema` when read. */
export class TaskJournal<T extends JournalEntry> {
  readonly dir: string;
  /** The last write of each task: writes of a task run one after another, in call order. */
  readonly #writes = new Map<string, Promise<void>>();

  readonly #schema: z.ZodType<T>;

  constructor(dir: string, schema: z.ZodType<T>) {
    this.dir = dir;
    this.#schema = schema;
  }

  /**
   * Saves a task's snapshot (atomically, mode 0600: written to a temporary file, then renamed).
   * Saves and removals of one task through this journal apply in call order, so that an older
   * snapshot never lands last or brings a removed task back. Each save has a temporary file of its
   * own (`<id>.json.<pid>.<n>.tmp`): another writer of the directory (a second journal, another
   * process) cannot take it away from under the rename; the last rename wins whole.
   */
  save(snapshot: T): Promise<void> {
    return this.#serialise(snapshot.taskId, async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const file = this.#file(snapshot.taskId);
      saves += 1;
      const temporary = `${file}.${process.pid}.${saves}.tmp`;
      try {
        await writeFile(temporary, JSON.stringify(snapshot), { mode: 0o600 });
        await rename(temporary, file);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    });
  }

  /** Forgets a finished task. */
  remove(taskId: string): Promise<void> {
    return this.#serialise(taskId, () => rm(this.#file(taskId), { force: true }));
  }

  #serialise(taskId: string, write: () => Promise<void>): Promise<void> {
    // A failed write does not stop the next one (its caller saw the error).
    const next = (this.#writes.get(taskId) ?? Promise.resolve()).catch(() => undefined).then(write);
    this.#writes.set(taskId, next);
    const forget = () => {
      if (this.#writes.get(taskId) === next) this.#writes.delete(taskId);
    };
    next.then(forget, forget);
    return next;
  }

  /** Every saved task; unreadable files are reported through `onInvalid` and skipped. */
  async load(onInvalid: (file: string, problem: string) => void): Promise<T[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const out: T[] = [];
    for (const name of names.filter((n) => n.endsWith(".json") && TASK_ID.test(n.slice(0, -5))).sort()) {
      const file = join(this.dir, name);
      try {
        const parsed = this.#schema.safeParse(JSON.parse(await readFile(file, "utf8")));
        if (parsed.success) out.push(parsed.data);
        else onInvalid(file, parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
      } catch (error) {
        onInvalid(file, error instanceof Error ? error.message : String(error));
      }
    }
    return out;
  }

  #file(taskId: string): string {
    // The id names a file: never a path.
    if (!TASK_ID.test(taskId))
      throw new Error(`task id ${JSON.stringify(taskId)} cannot name a journal file`);
    return join(this.dir, `${taskId}.json`);
  }
}
