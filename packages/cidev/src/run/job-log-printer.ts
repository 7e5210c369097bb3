import type { TerminalStyle } from "@solstice/cli-kit";
import type { JobEvent, JobStep } from "@solstice/common";

// Turns a job's events (in order) into the lines `cidev run` prints: a header per step, the
// step's output as it comes, each step's result and duration, the VM's boot and Solstice's own
// lines dimmed, and the job's conclusion. Pure: the caller writes the lines.

/** A step's display name: its `name`, else the first line of its script (as the orchestrator names it). */
export function stepTitle(step: JobStep | undefined, index: number): string {
  const name = step?.name?.trim();
  if (name !== undefined && name !== "") return name;
  const first = step?.run
    .split("\n")
    .find((l) => l.trim() !== "")
    ?.trim();
  if (first === undefined) return `step ${index + 1}`;
  return first.length > 60 ? `${first.slice(0, 57)}...` : first;
}

/** `1.2 s`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Formats a job's events as lines for a terminal or a log file. */
export class JobLogPrinter {
  readonly #steps: readonly JobStep[];
  readonly #style: TerminalStyle;
  #startedAt: number | undefined;

  constructor(options: { steps: readonly JobStep[]; style: TerminalStyle }) {
    this.#steps = options.steps;
    this.#style = options.style;
  }

  #header(step: number, name?: string): string {
    return `Step ${step + 1}/${this.#steps.length}: ${name ?? stepTitle(this.#steps[step], step)}`;
  }

  /** The lines (without `\n`) to print for one event. */
  lines(event: JobEvent): string[] {
    const s = this.#style;
    const at = Date.parse(event.timestamp);
    this.#startedAt ??= at;
    switch (event.type) {
      case "job_started":
        return [
          s.dim(`Job started on ${event.host ?? "this host"}${event.label ? ` (image ${event.label})` : ""}`),
        ];
      case "log":
        // The VM's console, the checkout and Solstice's notices: dimmed, apart from the steps' output.
        if (event.stream === "system") return [s.dim(event.text)];
        return [event.text];
      case "step_started":
        return ["", s.bold(s.cyan(`==> ${this.#header(event.step, event.name)}`))];
      case "step_finished": {
        const title = this.#header(event.step);
        const exit = event.exit_code === null ? "" : `exit ${event.exit_code}, `;
        switch (event.conclusion) {
          case "success":
            return [s.green(`<== ${title}: success (${exit}${formatDuration(event.duration_ms)})`)];
          case "failure":
            return [s.red(`<== ${title}: failure (${exit}${formatDuration(event.duration_ms)})`)];
          case "skipped":
            return ["", s.dim(`--- ${title}: skipped`)];
          case "cancelled":
            return [s.yellow(`<== ${title}: cancelled (${formatDuration(event.duration_ms)})`)];
        }
        return [];
      }
      case "job_finished": {
        const took = formatDuration(Math.max(0, at - (this.#startedAt ?? at)));
        const why = event.reason === undefined || event.reason === null ? "" : `: ${event.reason}`;
        if (event.conclusion === "success") return ["", s.bold(s.green(`Job succeeded in ${took}`))];
        if (event.conclusion === "cancelled")
          return ["", s.bold(s.yellow(`Job cancelled after ${took}${why}`))];
        return ["", s.bold(s.red(`Job failed after ${took}${why}`))];
      }
    }
  }
}
