import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { TaskReportSnapshot } from "./task-report.ts";

// One small JSON file per running task, so that a restarted runner resumes every task where
// Forgejo has it: which job (request id) feeds it, how many log rows the server holds, the step
// states, and from which event on the job's durable event queue must be replayed. No secrets:
// rows are never written here (they wait in the event queue), tokens neither.

const StepSchema = z.object({
  result: z.number().int(),
  startedAt: z.string().optional(),
  stoppedAt: z.string().optional(),
  logIndex: z.number().int().nonnegative(),
  logLength: z.number().int().nonnegative(),
  stepId: z.string().optional(),
  outcome: z.enum(["success", "failure", "skipped", "cancelled"]).optional(),
  outputs: z.record(z.string(), z.string()).optional(),
});

/** A journal entry. */
export const TaskJournalEntrySchema = z.object({
  taskId: z.string().regex(/^\d+$/),
  requestId: z.string().min(1),
  ackIndex: z.number().int().nonnegative(),
  durableSeq: z.number().int().nonnegative(),
  result: z.number().int(),
  startedAt: z.string(),
  stoppedAt: z.string().optional(),
  steps: z.array(StepSchema),
  outputTemplates: z.record(z.string(), z.string()),
  sentOutputs: z.array(z.string()),
  logClosed: z.boolean(),
});

/** The running tasks' journal, one file per task in `dir`. */
export class TaskJournal {
  readonly dir: string;
  /** The last write of each task: writes of a task run one after another, in call order. */
  readonly #writes = new Map<string, Promise<void>>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Saves a task's snapshot (atomically, mode 0600). Saves and removals of one task apply in call
   * order: two at once would share the temporary file (the second rename fails) and an older
   * snapshot could land last, or bring a removed task back.
   */
  save(snapshot: TaskReportSnapshot): Promise<void> {
    return this.#serialise(snapshot.taskId, async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const file = this.#file(snapshot.taskId);
      const temporary = `${file}.tmp`;
      await writeFile(temporary, JSON.stringify(snapshot), { mode: 0o600 });
      await rename(temporary, file);
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
  async load(onInvalid: (file: string, problem: string) => void): Promise<TaskReportSnapshot[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const out: TaskReportSnapshot[] = [];
    for (const name of names.filter((n) => /^\d+\.json$/.test(n)).sort()) {
      const file = join(this.dir, name);
      try {
        const parsed = TaskJournalEntrySchema.safeParse(JSON.parse(await readFile(file, "utf8")));
        if (parsed.success) out.push(parsed.data as TaskReportSnapshot);
        else onInvalid(file, parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
      } catch (error) {
        onInvalid(file, error instanceof Error ? error.message : String(error));
      }
    }
    return out;
  }

  #file(taskId: string): string {
    return join(this.dir, `${taskId}.json`);
  }
}
