import type { ActionsJobStatus, JobStep, StepConclusion, StepRecord, StepRunState } from "@solstice/common";

// What a job's finished steps leave for the later ones, as the Actions runner keeps it: the job
// status, `steps.<id>` (outputs, outcome, conclusion), the variables written to GITHUB_ENV and
// the directories written to GITHUB_PATH. Pure: the executor feeds it what it read back.

/**
 * The run's state between steps.
 *
 * @example
 *   const run = new JobRunState(request.env ?? {});
 *   evaluateStepCondition(step.if, run.expressionState());
 *   run.applyFileCommands({ env: { TOOL: "x" }, path: ["/opt/tool/bin"] });
 *   run.finishStep(step, "success", { version: "1.2" });
 */
export class JobRunState {
  readonly #jobEnv: Readonly<Record<string, string>>;
  readonly #steps: Record<string, StepRecord> = {};
  readonly #githubEnv: Record<string, string> = {};
  #pathPrefix: string[] = [];
  #status: ActionsJobStatus = "success";

  /** `jobEnv`: the request's env, what `env.*` in expressions sees below GITHUB_ENV. */
  constructor(jobEnv: Readonly<Record<string, string>>) {
    this.#jobEnv = jobEnv;
  }

  /** `success`, `failure` once a step failed without continue_on_error, `cancelled` once cancelled. */
  get status(): ActionsJobStatus {
    return this.#status;
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
   * (a failure that continues on error concludes `success`); a failure without continue_on_error
   * makes the job `failure`, a cancelled step makes it `cancelled`.
   */
  finishStep(
    step: Pick<JobStep, "id" | "continue_on_error">,
    outcome: StepConclusion,
    outputs: Readonly<Record<string, string>> = {},
  ): void {
    const continues = outcome === "failure" && step.continue_on_error === true;
    if (step.id !== undefined) {
      this.#steps[step.id] = {
        outputs: { ...outputs },
        outcome,
        conclusion: continues ? "success" : outcome,
      };
    }
    if (outcome === "cancelled") this.#status = "cancelled";
    else if (outcome === "failure" && !continues && this.#status === "success") this.#status = "failure";
  }

  /** The job was cancelled: nothing more runs. */
  cancel(): void {
    this.#status = "cancelled";
  }
}
