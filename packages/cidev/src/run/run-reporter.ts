import type { TerminalStyle } from "@solstice/cli-kit";
import type { JobEvent, JobStep, MatrixCombination } from "@solstice/common";
import type { VmRecord } from "@solstice/orchestrator";
import { JobLogPrinter } from "./job-log-printer.ts";
import type { RunResult } from "./job-results.ts";
import { debugBanner, debugSshCommand } from "./local-session.ts";
import { matrixRowText } from "./matrix-rows.ts";

// What `cidev run` prints about its runs (a job, or one matrix row of it): for people (step
// headers, output, results, a summary when there were several runs) or, with --json, one JSON
// object per line on stdout: `run_started`, each job event (with `job` and `matrix`),
// `run_skipped`, `run_not_started`, and last a `summary`.

/** A run about to start. */
export interface RunStart {
  readonly job: string;
  readonly name: string;
  readonly matrix: MatrixCombination;
  readonly label: string;
  readonly requestId: string;
  readonly file: string;
  readonly steps: readonly JobStep[];
}

/** How a run ended, for the summary. */
export interface RunSummary {
  readonly job: string;
  readonly matrix: MatrixCombination;
  readonly requestId: string | null;
  /** `not_started`: an earlier failure stopped the run first (no --keep-going), or Ctrl-C. */
  readonly result: RunResult | "not_started";
  readonly reason: string | null;
  readonly outputs: Readonly<Record<string, string>>;
}

/** Where a run's progress goes. */
export interface RunReporter {
  runStarted(run: RunStart): void;
  event(event: JobEvent): void;
  /** The job's `if:` is false (or a job it needs failed): a forge would skip it. */
  runSkipped(job: string, matrix: MatrixCombination, why: string): void;
  keptVm(vm: Pick<VmRecord, "workDir" | "sshPort" | "debugUntil">, user: string): void;
  summary(runs: readonly RunSummary[], result: RunResult | "interrupted"): void;
}

function title(job: string, matrix: MatrixCombination): string {
  const row = matrixRowText(matrix);
  return row === "" ? job : `${job} (${row})`;
}

/** Human output: what `cidev run` always printed, plus a summary after several runs. */
export class HumanRunReporter implements RunReporter {
  readonly #out: NodeJS.WritableStream;
  readonly #style: TerminalStyle;
  #printer: JobLogPrinter | undefined;
  #runs = 0;

  constructor(stdout: NodeJS.WritableStream, style: TerminalStyle) {
    this.#out = stdout;
    this.#style = style;
  }

  runStarted(run: RunStart): void {
    const s = this.#style;
    this.#printer = new JobLogPrinter({ steps: run.steps, style: s });
    this.#out.write(
      `${this.#runs++ === 0 ? "" : "\n"}${s.bold(`Running job ${title(run.job, run.matrix)} of ${run.file} on ${run.label}`)} ${s.dim(`(request ${run.requestId})`)}\n`,
    );
  }

  event(event: JobEvent): void {
    for (const line of this.#printer?.lines(event) ?? []) this.#out.write(`${line}\n`);
  }

  runSkipped(job: string, matrix: MatrixCombination, why: string): void {
    this.#runs++;
    this.#out.write(`Job ${title(job, matrix)}: ${why}; a runner would skip it.\n`);
  }

  keptVm(vm: Pick<VmRecord, "workDir" | "sshPort" | "debugUntil">, user: string): void {
    this.#out.write(`\n${debugBanner(vm, user, this.#style)}`);
  }

  summary(runs: readonly RunSummary[], _result: RunResult | "interrupted"): void {
    if (runs.length < 2) return;
    const s = this.#style;
    const colour = (r: RunSummary["result"]) =>
      r === "success" ? s.green(r) : r === "failure" ? s.red(r) : r === "cancelled" ? s.yellow(r) : s.dim(r);
    this.#out.write(`\n${s.bold("Summary")}\n`);
    const width = Math.max(...runs.map((r) => title(r.job, r.matrix).length));
    for (const r of runs) {
      const why = r.reason === null || r.result === "success" ? "" : s.dim(` (${r.reason})`);
      this.#out.write(`  ${title(r.job, r.matrix).padEnd(width)}  ${colour(r.result)}${why}\n`);
    }
  }
}

/** `--json`: one object per line on stdout; people's notes stay on stderr. */
export class JsonRunReporter implements RunReporter {
  readonly #out: NodeJS.WritableStream;
  #current: { job: string; matrix: MatrixCombination } | undefined;

  constructor(stdout: NodeJS.WritableStream) {
    this.#out = stdout;
  }

  #line(value: object): void {
    this.#out.write(`${JSON.stringify(value)}\n`);
  }

  runStarted(run: RunStart): void {
    this.#current = { job: run.job, matrix: run.matrix };
    this.#line({
      type: "run_started",
      job: run.job,
      name: run.name,
      matrix: run.matrix,
      label: run.label,
      request_id: run.requestId,
      file: run.file,
      steps: run.steps.map((step) => step.name ?? null),
    });
  }

  event(event: JobEvent): void {
    this.#line({ ...event, job: this.#current?.job ?? null, matrix: this.#current?.matrix ?? {} });
  }

  runSkipped(job: string, matrix: MatrixCombination, why: string): void {
    this.#line({ type: "run_skipped", job, matrix, reason: why });
  }

  keptVm(vm: Pick<VmRecord, "workDir" | "sshPort" | "debugUntil">, user: string): void {
    this.#line({
      type: "vm_kept",
      job: this.#current?.job ?? null,
      ssh: debugSshCommand(vm, user),
      until: vm.debugUntil?.toISOString() ?? null,
    });
  }

  summary(runs: readonly RunSummary[], result: RunResult | "interrupted"): void {
    this.#line({
      type: "summary",
      result,
      runs: runs.map((r) => ({
        job: r.job,
        matrix: r.matrix,
        request_id: r.requestId,
        result: r.result,
        reason: r.reason,
        outputs: r.outputs,
      })),
    });
  }
}
