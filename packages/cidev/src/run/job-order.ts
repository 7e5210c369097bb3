import { EXIT_USAGE } from "@solstice/cli-kit";
import { CidevError } from "../errors.ts";

// The order `cidev run` runs several jobs in: every job after the jobs it `needs` (those that are
// run at all), ties broken by file order, as a forge would start them one at a time. Pure.

/** A job as ordering sees it. */
export interface JobNode {
  readonly id: string;
  readonly needs: readonly string[];
}

/** `--job` names no job, or the jobs' `needs` make a cycle. */
export class JobOrderError extends CidevError {
  constructor(message: string, hint: string) {
    super("CIDEV_JOB_ORDER", message, { exitCode: EXIT_USAGE, hint });
  }
}

/**
 * The ids of the chosen jobs (`selected`, or every job when undefined), each after the chosen
 * jobs it needs (directly or through jobs not chosen), else in file order. A job's needs outside the choice are not added: the caller
 * decides what they count as (cidev: succeeded, without outputs).
 *
 * @throws JobOrderError for an unknown id or a `needs` cycle
 * @example
 *   orderJobs([{ id: "test", needs: ["build"] }, { id: "build", needs: [] }]) // ["build", "test"]
 */
export function orderJobs(jobs: readonly JobNode[], selected?: readonly string[]): string[] {
  const ids = jobs.map((j) => j.id);
  const chosen = new Set(selected ?? ids);
  const unknown = [...chosen].filter((id) => !ids.includes(id));
  if (unknown.length > 0) {
    throw new JobOrderError(
      `no job ${unknown.map((id) => `"${id}"`).join(", ")} (jobs: ${ids.join(", ") || "none"})`,
      "list them with: cidev list <file>",
    );
  }
  const byId = new Map(jobs.map((j) => [j.id, j]));
  // What a chosen job waits for: the chosen jobs it needs, also through jobs not chosen.
  const waitsFor = (job: JobNode): Set<string> => {
    const out = new Set<string>();
    const seen = new Set<string>();
    const visit = (id: string) => {
      if (seen.has(id)) return;
      seen.add(id);
      if (chosen.has(id)) out.add(id);
      else for (const n of byId.get(id)?.needs ?? []) visit(n);
    };
    for (const n of job.needs) visit(n);
    return out;
  };
  const pending = jobs.filter((j) => chosen.has(j.id)).map((j) => ({ id: j.id, waits: waitsFor(j) }));
  const done = new Set<string>();
  const order: string[] = [];
  while (pending.length > 0) {
    const next = pending.findIndex((j) => [...j.waits].every((n) => done.has(n)));
    if (next < 0) {
      throw new JobOrderError(
        `the needs of ${pending.map((j) => j.id).join(", ")} make a cycle`,
        "fix the jobs' needs: (cidev validate <file>)",
      );
    }
    const [job] = pending.splice(next, 1);
    done.add(job!.id);
    order.push(job!.id);
  }
  return order;
}
