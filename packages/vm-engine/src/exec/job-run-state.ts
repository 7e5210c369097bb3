import {
  type ActionsJobStatus,
  evaluateStepCondition,
  type JobStep,
  resolveRuntimeStep,
  type StepConclusion,
  type StepRecord,
  type StepRunState,
} from "@solstice/common";
import type { StepOutcome } from "./step-runner.ts";

// The step state machine of a job, as the Actions runner keeps it: which step runs next (its
// `if` over the job status and earlier steps; nothing after a cancel), a step's outcome vs its
// conclusion (continue_on_error), the job's status and the reason it failed, and what finished
// steps leave for later ones: `steps.<id>` (outputs, outcome, conclusion), the variables written
// to GITHUB_ENV and the directories written to GITHUB_PATH. Pure: the executor does the I/O and
// feeds it what happened.

/** Why a step is not run. */
export type SkipReason =
  /** The job was cancelled: nothing more runs, whatever the step's `if` says. */
  | "job-cancelled"
  /** Its `if` is false (after a failure, a step without `if` has `success()`, which is false). */
  | "condition-false";

/** What to do with the next step. */
export type StepDecision =
  | { readonly action: "skip"; readonly why: SkipReason }
  /** Its `if` or one of its runtime expressions cannot be evaluated: the step fails with `error`. */
  | { readonly action: "fail"; readonly error: string }
  /** Run it: `step` has its runtime expressions resolved. */
  | { readonly action: "run"; readonly step: JobStep };

/** How a step ended, as the executor saw it (its outcome). */
export interface StepEnd {
  /** Its display name (the job's failure reason names it). */
  readonly name: string;
  readonly outcome: StepConclusion;
  /** Why it failed, for people. */
  readonly reason?: string | undefined;
  /** What it wrote to GITHUB_OUTPUT. */
  readonly outputs?: Readonly<Record<string, string>>;
}

/** What {@link JobRunState.finishStep} concluded. */
export interface StepVerdict {
  /** Its conclusion: a failure that continues on error concludes `success`. */
  readonly conclusion: StepConclusion;
  /** It failed but continue_on_error lets the job go on (worth a line in its log). */
  readonly continuedOnError: boolean;
}

/**
 * The run's state between steps.
 *
 * @example
 *   const run = new JobRunState(request.env ?? {});
 *   const next = run.decide(step);           // { action: "run", step } | { action: "skip", why } | ...
 *   run.applyFileCommands({ env: { TOOL: "x" }, path: ["/opt/tool/bin"] });
 *   run.finishStep(step, { name: "Build", outcome: "success", outputs: { version: "1.2" } });
 *   run.status; // "success" | "failure" | "cancelled"
 */
export class JobRunState {
  readonly #jobEnv: Readonly<Record<string, string>>;
  readonly #steps: Record<string, StepRecord> = {};
  readonly #githubEnv: Record<string, string> = {};
  #pathPrefix: string[] = [];
  #status: ActionsJobStatus = "success";
  #reason: string | undefined;

  /** `jobEnv`: the request's env, what `env.*` in expressions sees below GITHUB_ENV. */
  constructor(jobEnv: Readonly<Record<string, string>>) {
    this.#jobEnv = jobEnv;
  }

  /** `success`, `failure` once a step failed without continue_on_error, `cancelled` once cancelled. */
  get status(): ActionsJobStatus {
    return this.#status;
  }

  /** Why the job is not succeeding: the first failing step (`step "Build" exited with 2`), or the cancel's reason. */
  get reason(): string | undefined {
    return this.#reason;
  }

  /** What steps wrote to GITHUB_ENV so far (later writes win). */
  get githubEnv(): Readonly<Record<string, string>> {
    return this.#githubEnv;
  }

  /** Directories to put before PATH, the latest written first, each once. */
  get pathPrefix(): readonly string[] {
    return this.#pathPrefix;
  }

  /** What `evaluateStepCondition` and `resolveRuntimeStep` get: `env` is the job's plus GITHUB_ENV. */
  expressionState(): StepRunState {
    return {
      status: this.#status,
      steps: { ...this.#steps },
      contexts: { env: { ...this.#jobEnv, ...this.#githubEnv } },
    };
  }

  /** Whether `step` runs now, is skipped (and why), or fails without running. */
  decide(step: JobStep): StepDecision {
    // After a cancel nothing more runs, whatever its condition: the VM is going away.
    if (this.#status === "cancelled") return { action: "skip", why: "job-cancelled" };
    const state = this.expressionState();
    const condition = evaluateStepCondition(step.if, state);
    if ("error" in condition) return { action: "fail", error: condition.error };
    if (!condition.run) return { action: "skip", why: "condition-false" };
    const resolved = resolveRuntimeStep(step, state);
    if ("error" in resolved) return { action: "fail", error: resolved.error };
    return { action: "run", step: resolved.step };
  }

  /**
   * A step's GITHUB_ENV and GITHUB_PATH, for the steps after it. A directory written again moves
   * to the front (the Actions runner removes it and adds it last; PATH lists the latest first).
   */
  applyFileCommands(written: {
    readonly env?: Readonly<Record<string, string>>;
    readonly path?: readonly string[];
  }): void {
    Object.assign(this.#githubEnv, written.env ?? {});
    for (const directory of written.path ?? []) {
      this.#pathPrefix = [directory, ...this.#pathPrefix.filter((d) => d !== directory)];
    }
  }

  /**
   * Records how a step ended: `steps.<id>` gets its outputs, its `outcome` and its `conclusion`
   * (a failure that continues on error concludes `success`); the first failure without
   * continue_on_error makes the job `failure` (and names the step in {@link reason}), a cancelled
   * step makes it `cancelled` (the reason is the cancel's: see {@link cancel}).
   */
  finishStep(step: Pick<JobStep, "id" | "continue_on_error">, end: StepEnd): StepVerdict {
    const continues = end.outcome === "failure" && step.continue_on_error === true;
    const conclusion = continues ? "success" : end.outcome;
    if (step.id !== undefined) {
      this.#steps[step.id] = { outputs: { ...(end.outputs ?? {}) }, outcome: end.outcome, conclusion };
    }
    if (end.outcome === "cancelled") {
      this.#status = "cancelled";
    } else if (end.outcome === "failure" && !continues && this.#status === "success") {
      this.#status = "failure";
      this.#reason = `step "${end.name}" ${end.reason ?? "failed"}`;
    }
    return { conclusion, continuedOnError: continues };
  }

  /** The job was cancelled (`reason`: why, for people): nothing more runs. The first reason stays. */
  cancel(reason: string): void {
    if (this.#status !== "cancelled" || this.#reason === undefined) this.#reason = reason;
    this.#status = "cancelled";
  }
}

/**
 * A step's outcome once its file commands were read: a malformed file fails a step that
 * succeeded, as the Actions runner's "Unable to process file command" does.
 */
export function outcomeWithFileCommandErrors(outcome: StepOutcome, errors: readonly string[]): StepOutcome {
  if (errors.length === 0 || outcome.conclusion !== "success") return outcome;
  return { ...outcome, conclusion: "failure", reason: `could not process ${errors[0]}` };
}
