import type { JobDetail, JobView, LogLineView } from "@solstice/common";
import { textTable } from "./text-table.ts";

// The plain-text forms of `ciadm jobs`, `status` and `logs` (pure: tested by snapshot).

/** `2026-03-01T12:00:01.000Z` → `2026-03-01 12:00:01`; `-` for none. */
export function shortTime(iso: string | null): string {
  if (iso === null) return "-";
  return iso.replace("T", " ").replace(/(\.\d+)?Z$/, "");
}

/** A job's outcome in one word: its conclusion when finished, else its state. */
export function jobResult(job: Pick<JobView, "state" | "conclusion">): string {
  return job.state === "finished" ? (job.conclusion ?? "finished") : job.state;
}

/** `ciadm jobs`: one row per job, newest first as the API gives them. */
export function formatJobTable(jobs: readonly JobView[]): string {
  if (jobs.length === 0) return "no jobs\n";
  return textTable(
    ["REQUEST ID", "RESULT", "LABEL", "SOURCE", "HOST", "RECEIVED", "FINISHED", "REPOSITORY"],
    jobs.map((job) => [
      job.request_id,
      jobResult(job),
      job.label ?? job.runs_on ?? "-",
      job.source,
      job.host_id,
      shortTime(job.received_at),
      shortTime(job.finished_at),
      `${job.repo_url}@${job.commit_sha.slice(0, 12)}`,
    ]),
  );
}

/** `ciadm status <id>`: the job's fields, one per line, then its VMs. */
export function formatJobStatus(job: JobDetail): string {
  const lines: [string, string][] = [
    ["request_id", job.request_id],
    ["state", job.state],
    ["conclusion", job.conclusion ?? "-"],
    ["reason", job.reason ?? "-"],
    ["source", job.source],
    ["repository", job.repo_url],
    ["commit", job.commit_sha],
    ["runs_on", job.runs_on ?? "-"],
    ["label", job.label ?? "-"],
    ["host", job.host_id],
    ["attempt", String(job.attempt)],
    ["steps", job.request?.steps?.length === undefined ? "-" : String(job.request.steps.length)],
    ["owner", job.owner === null ? "-" : `${job.owner.kind} ${job.owner.instance}`],
    ["received", shortTime(job.received_at)],
    ["started", shortTime(job.started_at)],
    ["finished", shortTime(job.finished_at)],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  const out = lines.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}\n`);
  for (const vm of job.vms) {
    const port = vm.ssh_port === null ? "" : `, ssh port ${vm.ssh_port}`;
    const until = vm.debug_until === null ? "" : `, kept for debug SSH until ${shortTime(vm.debug_until)}`;
    out.push(`${"vm:".padEnd(width + 2)}${vm.vm_name} (${vm.state}${port}${until})\n`);
  }
  return out.join("");
}

/**
 * Turns stored log lines into text with a header whenever a new step begins, from the job's
 * steps (when known).
 */
export class LogText {
  readonly #steps: readonly { readonly name?: string | null | undefined; readonly run: string }[];
  #step: number | null = null;

  constructor(steps: readonly { readonly name?: string | null | undefined; readonly run: string }[] = []) {
    this.#steps = steps;
  }

  /** The text for one line (with its `\n`, and a header before it when a step begins). */
  line(line: LogLineView): string {
    let header = "";
    if (line.step !== null && line.step !== this.#step) {
      const step = this.#steps[line.step];
      const name = step?.name ?? step?.run.split("\n")[0]?.trim() ?? "";
      const total = this.#steps.length > 0 ? `/${this.#steps.length}` : "";
      header = `==> Step ${line.step + 1}${total}${name === "" ? "" : `: ${name}`}\n`;
    }
    if (line.step !== null) this.#step = line.step;
    return `${header}${line.text}\n`;
  }
}
