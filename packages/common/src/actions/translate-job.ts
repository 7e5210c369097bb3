import type { data } from "@actions/expressions";
import {
  ActionsExpressionError,
  ActionsJobNotFoundError,
  ActionsUnsupportedJobError,
  type WorkflowErrorLocation,
} from "../errors.ts";
import type { Env, JobOwner, JobStep, WorkflowJobFields } from "../messages/job-request.ts";
import type { SourceLocation } from "../workflow/workflow-types.ts";
import type { ActionsJob, ActionsStep, ActionsValue, ActionsWorkflow } from "./actions-workflow.ts";
import { checkoutStep } from "./checkout-step.ts";
import { evaluateValue, type ResolvedString, resolveString, scalarText } from "./evaluate-value.ts";
import { isJsonObject, isTruthy, type JsonValue, toExpressionData } from "./expression-data.ts";
import {
  contextDictionary,
  type ExpressionContexts,
  ExpressionFailure,
  evaluateExpression,
  type StatusAnswers,
} from "./expression-evaluator.ts";
import { type Residual, residualExpression } from "./expression-residual.ts";
import { failingScript } from "./failing-step.ts";
import { type ActionsContexts, defaultActionsEnv, type Need } from "./job-contexts.ts";
import { applyJobToken } from "./job-token.ts";
import { expandMatrix } from "./matrix-expansion.ts";
import { shellCommand } from "./step-shell.ts";
import { joinTemplate } from "./template-segments.ts";
import type { TranslationWarning } from "./translation-warning.ts";

// One job of an Actions workflow → the parts of a JobRequest: its steps, env, timeout, labels,
// values to mask, and owner. Steps map one to one (step i of the job is steps[i], as the forge
// counts them). What the contexts decide is evaluated now; what the run decides (status
// functions, `steps.*`, GITHUB_ENV variables, `job.status`) is left in the step for the executor
// (`if`, `runtime_expressions`; see step-runtime.ts). docs/actions-translation.md has the rules.

/** What `translateJob` needs. */
export interface TranslateJobInput {
  readonly workflow: ActionsWorkflow;
  /** The job to translate; may be left out when the workflow has one job (a Forgejo task). */
  readonly jobId?: string;
  /** The job's contexts: github (with `token`), vars, secrets, matrix, needs, inputs, runner, job, strategy. */
  readonly contexts?: ActionsContexts;
  /** Who receives the job's events (runner kind + instance + forge task id). */
  readonly owner?: JobOwner;
  /** The workflow file's path in the repository, for `workflow_path`. */
  readonly workflowPath?: string;
  /** Process environment the runner adds for every step (e.g. `FORGEJO_ACTIONS=true`), below the workflow's `env`. */
  readonly runnerEnv?: Readonly<Record<string, string>>;
  /** The label to run on when the runner has chosen it; by default the first `runs-on` label other than `self-hosted`. */
  readonly runsOn?: string;
  /** Where the built-in checkout fetches the task's repository, instead of `<server_url>/<repository>`. */
  readonly checkoutUrl?: string;
}

/** The JobRequest fields a translated job fills; spread them into `newJobRequest`. */
export interface ActionsJobRequestFields extends WorkflowJobFields {
  labels: string[];
  /** Defaults (CI, GITHUB_*), the runner's, then the workflow's and the job's `env`. */
  env: Env;
  timeout_seconds?: number;
  /** Every secret value, each line of multi-line ones, the token and its encoded forms. */
  mask: string[];
  owner?: JobOwner;
  /** Always false: an Actions job's workspace starts empty; its checkout step fetches the repository. */
  workspace_checkout: false;
}

/** A translated job. */
export interface TranslatedJob {
  readonly request: ActionsJobRequestFields;
  /** What was translated differently from Actions, or ignored. */
  readonly warnings: readonly TranslationWarning[];
  /** The job's `if`: false means the forge should see the job skipped, not run. */
  readonly shouldRun: boolean;
  /** The job's display name (`name:` evaluated, else its id). */
  readonly name: string;
  /** The matrix combination the job was translated for (`{}` without a matrix). */
  readonly matrix: Readonly<Record<string, JsonValue>>;
  /**
   * The job's `outputs:`, as templates: render each with `renderStepTemplate` once the steps are
   * done (always render them: literal text in them is escaped).
   */
  readonly outputs: Readonly<Record<string, string>>;
}

const DEFAULT_STRATEGY = { "fail-fast": true, "job-index": 0, "job-total": 1, "max-parallel": 1 };

/**
 * Translates one job of a parsed workflow into JobRequest fields.
 * Throws `ActionsJobNotFoundError`, `ActionsUnsupportedJobError` (a reusable-workflow call) or
 * `ActionsExpressionError` (a job-level expression that cannot be evaluated).
 *
 * @example
 *   const workflow = await parseActionsWorkflow(task.workflowPayload, `task-${task.id}.yml`);
 *   const { request, warnings } = translateJob({ workflow, contexts, owner });
 *   await queue.publish(newJobRequest({ source: "forgejo", repo_url, commit_sha, ...request }));
 */
export function translateJob(input: TranslateJobInput): TranslatedJob {
  return new JobTranslator(input).translate();
}

/** The job of `workflow` named `jobId`, or its only job. */
export function findActionsJob(workflow: ActionsWorkflow, jobId: string | undefined): ActionsJob {
  const ids = workflow.jobs.map((j) => j.id);
  if (jobId === undefined) {
    if (workflow.jobs.length === 1) return workflow.jobs[0]!;
    throw new ActionsJobNotFoundError(workflow.file, undefined, ids);
  }
  const job = workflow.jobs.find((j) => j.id === jobId);
  if (job === undefined) throw new ActionsJobNotFoundError(workflow.file, jobId, ids);
  return job;
}

/** The status functions for a job's own `if`, from its needs (as GitHub: a skipped need is not a success). */
function needsStatus(needs: Readonly<Record<string, Need>>): StatusAnswers {
  const results = Object.values(needs).map((n) => n.result?.toLowerCase() ?? "success");
  return {
    success: results.every((r) => r === "success"),
    failure: results.includes("failure"),
    cancelled: results.includes("cancelled"),
  };
}

/** A value as the user wrote it, for messages. */
function describe(value: ActionsValue): string {
  switch (value.kind) {
    case "expression":
      return value.expression;
    case "template":
      return joinTemplate(value.parts);
    case "literal":
      return String(value.value);
    default:
      return value.kind;
  }
}

function stringRecord(value: JsonValue): Record<string, string> | string {
  if (!isJsonObject(value)) return "expected a mapping";
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    const text = scalarText(item);
    if (text === undefined) return `${key} must be a string, number or boolean`;
    out[key] = text;
  }
  return out;
}

/** The lines of every secret and the whole values, trimmed, non-empty, each once. */
function maskValues(values: readonly string[]): string[] {
  const out = new Set<string>();
  for (const value of values) {
    for (const part of [value, ...value.split(/\r?\n/)]) {
      const trimmed = part.trim();
      if (trimmed !== "") out.add(part.includes("\n") ? part : trimmed);
    }
  }
  return [...out];
}

class JobTranslator {
  readonly #input: TranslateJobInput;
  readonly #file: string;
  readonly #warnings: TranslationWarning[] = [];
  readonly #mask: string[] = [];

  constructor(input: TranslateJobInput) {
    this.#input = input;
    this.#file = input.workflow.file;
  }

  #warn(at: SourceLocation, message: string, step?: number): void {
    this.#warnings.push({
      file: this.#file,
      line: at.line,
      column: at.column,
      message,
      ...(step === undefined ? {} : { step }),
    });
  }

  #where(at: SourceLocation): WorkflowErrorLocation {
    return { file: this.#file, line: at.line, column: at.column };
  }

  /** Evaluates a job-level value fully; throws `ActionsExpressionError` when it cannot. */
  #evaluate(value: ActionsValue, contexts: data.Dictionary): JsonValue {
    const result = evaluateValue(value, contexts);
    if (result instanceof ExpressionFailure)
      throw new ActionsExpressionError(this.#where(value.at), describe(value), result.message);
    return result;
  }

  #env(value: ActionsValue | undefined, contexts: data.Dictionary): Record<string, string> {
    if (value === undefined) return {};
    const record = stringRecord(this.#evaluate(value, contexts));
    if (typeof record === "string")
      throw new ActionsExpressionError(this.#where(value.at), `env: ${describe(value)}`, record);
    return record;
  }

  translate(): TranslatedJob {
    const { workflow } = this.#input;
    const job = findActionsJob(workflow, this.#input.jobId);
    if (job.uses !== undefined) {
      throw new ActionsUnsupportedJobError(
        this.#where(job.at),
        job.id,
        `job "${job.id}" calls the reusable workflow ${job.uses}, which Solstice CI cannot run`,
        "copy the called workflow's jobs into this workflow",
      );
    }

    const given = this.#input.contexts ?? {};
    const github: Record<string, unknown> = { job: job.id, ...(given.github ?? {}) };
    const secrets: Record<string, string> = { ...(given.secrets ?? {}) };
    const token = applyJobToken(github, secrets);
    this.#mask.push(...Object.values(secrets), ...(token === undefined ? [] : [token]));

    const base: ExpressionContexts = {
      github,
      vars: given.vars ?? {},
      secrets,
      needs: given.needs ?? {},
      inputs: given.inputs ?? {},
      runner: given.runner ?? {},
      job: given.job ?? {},
      strategy: given.strategy ?? DEFAULT_STRATEGY,
      env: {},
    };

    const shouldRun = this.#jobCondition(job, base, given.needs ?? {});
    const matrix = this.#matrix(job, base, given.matrix);
    const withMatrix: ExpressionContexts = { ...base, matrix };

    const workflowEnv = this.#env(workflow.env, contextDictionary(withMatrix));
    const jobEnv = this.#env(job.env, contextDictionary({ ...withMatrix, env: workflowEnv }));
    const envContext = { ...workflowEnv, ...jobEnv };
    const jobContexts: ExpressionContexts = { ...withMatrix, env: envContext };
    const jobDictionary = contextDictionary(jobContexts);

    const labels = this.#labels(job, jobDictionary);
    const defaults = this.#runDefaults(job, jobDictionary);
    const timeout = this.#minutes(job.timeoutMinutes, jobDictionary, "timeout-minutes");
    if (job.container !== undefined) {
      this.#warn(job.container.at, "container: is ignored: the job runs in a VM of its runs-on image");
    }
    if (job.services !== undefined) {
      this.#warn(job.services.at, "services: are ignored: Solstice CI runs no service containers");
    }

    const steps = job.steps.map((step) => this.#step(step, jobContexts, envContext, defaults, github, token));
    if (steps.length === 0) {
      throw new ActionsUnsupportedJobError(
        this.#where(job.at),
        job.id,
        `job "${job.id}" has no steps`,
        "add steps to the job",
      );
    }

    const name =
      job.name === undefined ? job.id : (scalarText(this.#evaluate(job.name, jobDictionary)) ?? job.id);
    const request: ActionsJobRequestFields = {
      workflow_path: this.#input.workflowPath ?? null,
      workflow_job_id: job.id,
      runs_on: this.#input.runsOn ?? labels.find((l) => l !== "self-hosted") ?? labels[0] ?? null,
      labels,
      steps,
      env: {
        ...defaultActionsEnv({ github, runner: given.runner }),
        ...(this.#input.runnerEnv ?? {}),
        ...envContext,
      },
      mask: maskValues(this.#mask),
      workspace_checkout: false,
      ...(timeout === undefined ? {} : { timeout_seconds: timeout }),
      ...(this.#input.owner === undefined ? {} : { owner: this.#input.owner }),
    };
    return {
      request,
      warnings: this.#warnings,
      shouldRun,
      name: name === "" ? job.id : name,
      matrix,
      outputs: this.#outputs(job, jobContexts, envContext),
    };
  }

  #jobCondition(job: ActionsJob, base: ExpressionContexts, needs: Readonly<Record<string, Need>>): boolean {
    const verdict = evaluateExpression(job.if, base, needsStatus(needs));
    if (verdict instanceof ExpressionFailure)
      throw new ActionsExpressionError(this.#where(job.at), job.if, verdict.message);
    return isTruthy(verdict);
  }

  #matrix(
    job: ActionsJob,
    base: ExpressionContexts,
    given: Record<string, unknown> | undefined,
  ): Record<string, JsonValue> {
    if (given !== undefined) return given as Record<string, JsonValue>;
    const combinations = expandMatrix(job.strategy, contextDictionary(base));
    const at = job.strategy?.at ?? job.at;
    if (combinations instanceof ExpressionFailure) {
      throw new ActionsExpressionError(this.#where(at), "strategy.matrix", combinations.message);
    }
    const first = combinations[0] ?? {};
    if (combinations.length > 1) {
      this.#warn(
        at,
        `the matrix has ${combinations.length} combinations; this is the first (${JSON.stringify(first)}): pass contexts.matrix to choose another`,
      );
    }
    return first;
  }

  #labels(job: ActionsJob, contexts: data.Dictionary): string[] {
    if (job.runsOn === undefined) return [];
    const value = this.#evaluate(job.runsOn, contexts);
    const list = isJsonObject(value) ? (value["labels"] ?? []) : value;
    const labels = (Array.isArray(list) ? (list as readonly JsonValue[]) : [list])
      .map((l) => scalarText(l) ?? "")
      .filter((l) => l !== "");
    if (isJsonObject(value) && value["group"] !== undefined) {
      this.#warn(job.runsOn.at, "runs-on: group is ignored; the labels decide the image");
    }
    return labels;
  }

  #runDefaults(job: ActionsJob, contexts: data.Dictionary): { shell?: string; workingDirectory?: string } {
    const pick = (own: ActionsValue | undefined, workflow: ActionsValue | undefined) => {
      const value = own ?? workflow;
      if (value === undefined) return undefined;
      return scalarText(this.#evaluate(value, contexts));
    };
    const shell = pick(job.defaults.shell, this.#input.workflow.defaults.shell);
    const workingDirectory = pick(
      job.defaults.workingDirectory,
      this.#input.workflow.defaults.workingDirectory,
    );
    return {
      ...(shell === undefined || shell === "" ? {} : { shell }),
      ...(workingDirectory === undefined || workingDirectory === "" ? {} : { workingDirectory }),
    };
  }

  #minutes(value: ActionsValue | undefined, contexts: data.Dictionary, key: string): number | undefined {
    if (value === undefined) return undefined;
    const minutes = Number(this.#evaluate(value, contexts));
    if (!Number.isFinite(minutes) || minutes <= 0) {
      this.#warn(value.at, `${key}: ${describe(value)} is not a positive number of minutes; ignored`);
      return undefined;
    }
    return minutes * 60;
  }

  #outputs(
    job: ActionsJob,
    contexts: ExpressionContexts,
    env: Record<string, string>,
  ): Record<string, string> {
    const out: Record<string, string> = {};
    if (job.outputs?.kind !== "mapping") return out;
    const options = {
      contexts: contextDictionary(contexts),
      knownEnv: lowerKeys(env),
      mode: "value" as const,
    };
    for (const [key, value] of job.outputs.entries) {
      const resolved = resolveString(value, options);
      if (resolved instanceof ExpressionFailure) {
        this.#warn(value.at, `outputs.${key}: ${resolved.message}; left out`);
        continue;
      }
      out[key] = resolved.runtime ? resolved.text : joinTemplate([resolved.text]);
    }
    return out;
  }

  #step(
    step: ActionsStep,
    jobContexts: ExpressionContexts,
    jobEnv: Record<string, string>,
    defaults: { shell?: string; workingDirectory?: string },
    github: Record<string, unknown>,
    token: string | undefined,
  ): JobStep {
    const built = new StepBuilder(step, jobContexts, jobEnv);
    const out = built.common();
    const problems = built.problems;
    let run: string | undefined;

    if (step.uses !== undefined) {
      const action = step.uses.trim();
      if (/^actions\/checkout@/i.test(action)) {
        const result = this.#checkout(built, github, token);
        if ("error" in result) problems.push(result.error);
        else {
          run = result.run;
          if (Object.keys(result.env).length > 0) out.env = { ...(out.env ?? {}), ...result.env };
        }
      } else {
        problems.push(
          `uses: ${action} is not supported: Solstice CI runs only \`run\` steps and actions/checkout (the job runs in a VM, without the Actions runtime)`,
        );
      }
      out.name ??= `Run ${action}`;
    } else if (step.run !== undefined) {
      const script = built.string("run", step.run);
      if (script !== undefined) run = script;
      const shell = step.shell === undefined ? defaults.shell : built.string("shell", step.shell);
      if (shell !== undefined && shell !== "") {
        if (built.runtime.includes("shell")) out.shell = shell;
        else {
          const command = shellCommand(shell);
          if ("error" in command) problems.push(command.error);
          else out.shell = command.template;
        }
      }
      const directory =
        step.workingDirectory === undefined
          ? defaults.workingDirectory
          : built.string("working_directory", step.workingDirectory);
      if (directory !== undefined && directory !== "") out.working_directory = directory;
    }

    if (problems.length > 0 || run === undefined) {
      const message = problems.join("\n") || "the step has nothing to run";
      this.#warn(
        step.at,
        `step ${step.index + 1}${out.name === undefined ? "" : ` (${out.name})`}: ${message}`,
        step.index,
      );
      const failing: JobStep = { run: failingScript(message) };
      if (out.name !== undefined && !built.runtime.includes("name")) failing.name = out.name;
      if (out.id !== undefined) failing.id = out.id;
      if (out.if !== undefined) failing.if = out.if;
      if (out.continue_on_error !== undefined) failing.continue_on_error = out.continue_on_error;
      return failing;
    }
    out.run = run;
    if (built.runtime.length > 0) out.runtime_expressions = [...built.runtime];
    return out;
  }

  #checkout(built: StepBuilder, github: Record<string, unknown>, token: string | undefined) {
    const inputs: Record<string, string> = {};
    const withValue = built.step.with;
    if (withValue?.kind === "mapping") {
      for (const [key, value] of withValue.entries) {
        const text = built.string(`with.${key}`, value, false);
        if (text !== undefined) inputs[key] = text;
      }
    }
    const str = (key: string) => (typeof github[key] === "string" ? (github[key] as string) : undefined);
    const result = checkoutStep({
      with: inputs,
      serverUrl: str("server_url"),
      repository: str("repository"),
      sha: str("sha"),
      ref: str("ref"),
      token,
      url: this.#input.checkoutUrl,
    });
    if ("error" in result) return result;
    this.#mask.push(...result.mask);
    for (const key of result.ignored) {
      this.#warn(built.step.at, `actions/checkout: with.${key} is not supported; ignored`, built.step.index);
    }
    return result;
  }
}

function lowerKeys(record: Readonly<Record<string, unknown>>): Set<string> {
  return new Set(Object.keys(record).map((k) => k.toLowerCase()));
}

/** The fields every step has, evaluated as far as translation can; problems collected. */
class StepBuilder {
  readonly step: ActionsStep;
  readonly problems: string[] = [];
  /** The JobStep fields left for the executor (`runtime_expressions`). */
  readonly runtime: string[] = [];
  readonly #contexts: ExpressionContexts;
  readonly #jobEnv: Record<string, string>;
  #dictionary: data.Dictionary;
  #knownEnv: Set<string>;

  constructor(step: ActionsStep, contexts: ExpressionContexts, jobEnv: Record<string, string>) {
    this.step = step;
    this.#contexts = contexts;
    this.#jobEnv = jobEnv;
    this.#dictionary = contextDictionary(contexts);
    this.#knownEnv = lowerKeys(jobEnv);
  }

  /**
   * A string field: final text, or (when `allowRuntime`) a template recorded in `runtime`.
   * Undefined when it failed (the problem is recorded).
   */
  string(field: string, value: ActionsValue, allowRuntime = true): string | undefined {
    const resolved: ResolvedString | ExpressionFailure = resolveString(value, {
      contexts: this.#dictionary,
      knownEnv: this.#knownEnv,
      mode: "value",
    });
    if (resolved instanceof ExpressionFailure) {
      this.problems.push(`${field}: ${resolved.message}`);
      return undefined;
    }
    if (resolved.runtime) {
      if (!allowRuntime) {
        this.problems.push(
          `${field}: ${describe(value)} depends on earlier steps, which Solstice CI cannot do here`,
        );
        return undefined;
      }
      this.runtime.push(field);
    }
    return resolved.text;
  }

  /**
   * `if`, `timeout-minutes` and `continue-on-error` first: as in Actions, they see the job's env
   * but not the step's own. Then the step's env (its values see the job's), then its name.
   */
  common(): JobStep {
    const { step } = this;
    const out: JobStep = { run: "" };
    const condition = this.#condition();
    const timeout = this.#number("timeout-minutes", step.timeoutMinutes);
    const continueOnError =
      step.continueOnError === undefined
        ? undefined
        : this.#static("continue-on-error", step.continueOnError);
    const env = this.#stepEnv();
    if (env !== undefined) out.env = env;
    if (step.name !== undefined) {
      const name = this.string("name", step.name);
      if (name !== undefined && name !== "") out.name = name;
    }
    if (step.id !== undefined) out.id = step.id;
    if (condition !== undefined) out.if = condition;
    if (timeout !== undefined) {
      if (timeout > 0) out.timeout_seconds = timeout * 60;
      else this.problems.push(`timeout-minutes: ${timeout} is not a positive number of minutes`);
    }
    if (continueOnError !== undefined) out.continue_on_error = isTruthy(continueOnError);
    return out;
  }

  #stepEnv(): Record<string, string> | undefined {
    const value = this.step.env;
    if (value === undefined) return undefined;
    const env: Record<string, string> = {};
    const staticEnv: Record<string, string> = {};
    const entries: readonly (readonly [string, ActionsValue])[] =
      value.kind === "mapping" ? value.entries : this.#envFromExpression(value);
    for (const [key, item] of entries) {
      const text = this.string(`env.${key}`, item);
      if (text === undefined) continue;
      env[key] = text;
      if (!this.runtime.includes(`env.${key}`)) staticEnv[key] = text;
    }
    // The step's other fields see its env: those known now, and the others only when run.
    const merged = { ...this.#jobEnv, ...staticEnv };
    const deferred = Object.keys(env).filter((k) => !(k in staticEnv));
    this.#dictionary = contextDictionary({ ...this.#contexts, env: merged });
    this.#knownEnv = new Set(
      [...lowerKeys(merged)].filter((k) => !deferred.some((d) => d.toLowerCase() === k)),
    );
    return env;
  }

  #envFromExpression(value: ActionsValue): (readonly [string, ActionsValue])[] {
    const result = evaluateValue(value, this.#dictionary);
    if (result instanceof ExpressionFailure) {
      this.problems.push(`env: ${result.message}`);
      return [];
    }
    const record = stringRecord(result);
    if (typeof record === "string") {
      this.problems.push(`env: ${record}`);
      return [];
    }
    return Object.entries(record).map(([k, v]) => [k, { kind: "literal", value: v, at: value.at }] as const);
  }

  /** The `if`, with what is known written in; undefined for plain `success()`. */
  #condition(): string | undefined {
    const residual: Residual | ExpressionFailure = residualExpression(this.step.if, {
      contexts: this.#dictionary,
      knownEnv: this.#knownEnv,
      mode: "condition",
    });
    if (residual instanceof ExpressionFailure) {
      this.problems.push(`if: ${residual.message}`);
      return undefined;
    }
    if (residual.kind === "static") return isTruthy(residual.value) ? "always()" : "false";
    return residual.expression === "success()" ? undefined : residual.expression;
  }

  /** A value that must be known now (continue-on-error, timeouts). */
  #static(field: string, value: ActionsValue): data.ExpressionData | undefined {
    if (value.kind === "literal") return toExpressionData(value.value);
    if (value.kind !== "expression") {
      const text = this.string(field, value, false);
      return text === undefined ? undefined : toExpressionData(text);
    }
    const residual = residualExpression(value.expression, {
      contexts: this.#dictionary,
      knownEnv: this.#knownEnv,
      mode: "value",
    });
    if (residual instanceof ExpressionFailure) {
      this.problems.push(`${field}: ${residual.message}`);
      return undefined;
    }
    if (residual.kind === "runtime") {
      this.problems.push(
        `${field}: ${describe(value)} depends on earlier steps, which Solstice CI cannot do here`,
      );
      return undefined;
    }
    return residual.value;
  }

  #number(field: string, value: ActionsValue | undefined): number | undefined {
    if (value === undefined) return undefined;
    const known = this.#static(field, value);
    if (known === undefined) return undefined;
    const n = known.number();
    if (!Number.isFinite(n)) {
      this.problems.push(`${field}: ${describe(value)} is not a number`);
      return undefined;
    }
    return n;
  }
}
