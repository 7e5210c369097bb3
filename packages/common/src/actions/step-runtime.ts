import type { data, Expr } from "@actions/expressions";
import { Binary, FunctionCall, Grouping, IndexAccess, Logical, Unary } from "@actions/expressions/ast";
import type { JobStep } from "../messages/job-request.ts";
import { expressionString, isTruthy } from "./expression-data.ts";
import {
  type ActionsJobStatus,
  contextDictionary,
  type ExpressionContexts,
  ExpressionFailure,
  evaluateParsed,
  parseExpression,
  STATUS_FUNCTIONS,
} from "./expression-evaluator.ts";
import { splitTemplate } from "./template-segments.ts";

// What is left of a translated step for the executor, when the step is reached: its `if`, and the
// fields listed in `runtime_expressions` (they read `steps.<id>.outputs`, an `env` variable set
// through GITHUB_ENV, or `job.status`). See docs/actions-translation.md for the contract.

/** `outcome`/`conclusion` of a finished step, as the `steps` context has them. */
export type StepOutcome = "success" | "failure" | "cancelled" | "skipped";

/** What the `steps` context says about one earlier step (by its `id`). */
export interface StepRecord {
  /** Read back from the step's GITHUB_OUTPUT file. */
  readonly outputs?: Readonly<Record<string, string>>;
  /** The result before `continue-on-error`. */
  readonly outcome?: StepOutcome;
  /** The result after `continue-on-error` (a failure that continues is `success`). */
  readonly conclusion?: StepOutcome;
}

/** The run's state when a step is reached. */
export interface StepRunState {
  /** The job's status so far (a failing step without continue-on-error makes it `failure`). */
  readonly status: ActionsJobStatus;
  /** Earlier steps that have an `id`. */
  readonly steps?: Readonly<Record<string, StepRecord>>;
  /**
   * Other contexts. The executor passes `env`: the job's `env` plus what steps wrote to
   * GITHUB_ENV so far. Everything else was already written into the expressions at translation.
   */
  readonly contexts?: ExpressionContexts;
}

/** A step condition's verdict, or why it could not be evaluated (the step then fails). */
export type StepConditionResult = { readonly run: boolean } | { readonly error: string };

/** A rendered template, or why it could not be rendered (the step then fails). */
export type RenderResult = { readonly value: string } | { readonly error: string };

function dictionary(state: StepRunState): data.Dictionary {
  const contexts = state.contexts ?? {};
  const job = typeof contexts.job === "object" && contexts.job !== null ? contexts.job : {};
  return contextDictionary({
    ...contexts,
    steps: state.steps ?? contexts.steps ?? {},
    job: { ...job, status: state.status },
  });
}

/** `${{ expr }}` (the whole text) → `expr`; anything else trimmed. */
function unwrap(text: string): string {
  const trimmed = text.trim();
  const parts = splitTemplate(trimmed);
  const only = parts?.length === 1 ? parts[0] : undefined;
  return only !== undefined && typeof only !== "string" ? only.expression : trimmed;
}

/** Whether an expression calls a status function anywhere (then no implicit `success() &&`). */
function hasStatusFunction(node: Expr): boolean {
  if (node instanceof FunctionCall) {
    return STATUS_FUNCTIONS.has(node.functionName.lexeme.toLowerCase()) || node.args.some(hasStatusFunction);
  }
  if (node instanceof Binary) return hasStatusFunction(node.left) || hasStatusFunction(node.right);
  if (node instanceof Unary) return hasStatusFunction(node.expr);
  if (node instanceof Logical) return node.args.some(hasStatusFunction);
  if (node instanceof Grouping) return hasStatusFunction(node.group);
  if (node instanceof IndexAccess) return hasStatusFunction(node.expr) || hasStatusFunction(node.index);
  return false;
}

/**
 * Should a step whose condition is `condition` run now? Absent or empty means `success()`; a
 * condition without a status function runs only while the job succeeds (`x` means
 * `success() && (x)`), as in Actions. Any expression over the state's contexts is allowed.
 *
 * @example
 *   evaluateStepCondition("failure() || steps.build.outcome == 'failure'", {
 *     status: "success", steps: { build: { outcome: "failure", conclusion: "success" } },
 *   }); // { run: true }
 */
export function evaluateStepCondition(
  condition: string | undefined,
  state: StepRunState,
): StepConditionResult {
  const text = unwrap(condition ?? "");
  const parsed = parseExpression(text === "" ? "success()" : text);
  if (parsed instanceof ExpressionFailure)
    return { error: `if: ${parsed.message} in ${JSON.stringify(text)}` };
  let expr = parsed;
  if (!hasStatusFunction(parsed)) {
    const wrapped = parseExpression(`success() && (${text})`);
    if (wrapped instanceof ExpressionFailure) return { error: `if: ${wrapped.message}` };
    expr = wrapped;
  }
  const value = evaluateParsed(expr, dictionary(state), state.status);
  if (value instanceof ExpressionFailure) return { error: `if: ${value.message} in ${JSON.stringify(text)}` };
  return { run: isTruthy(value) };
}

/**
 * Renders a template left for execution time (text with `${{ }}`): each expression is evaluated
 * over the state and replaced by its string form, the rest is kept as is.
 *
 * @example
 *   renderStepTemplate("echo ${{ steps.v.outputs.version }}", {
 *     status: "success", steps: { v: { outputs: { version: "1.2" } } },
 *   }); // { value: "echo 1.2" }
 */
export function renderStepTemplate(template: string, state: StepRunState): RenderResult {
  const parts = splitTemplate(template);
  if (parts === undefined) return { error: `"\${{" without its closing "}}" in ${JSON.stringify(template)}` };
  const contexts = dictionary(state);
  let out = "";
  for (const part of parts) {
    if (typeof part === "string") {
      out += part;
      continue;
    }
    const expr = parseExpression(part.expression);
    const value = expr instanceof ExpressionFailure ? expr : evaluateParsed(expr, contexts, state.status);
    if (value instanceof ExpressionFailure) return { error: `\${{ ${part.expression} }}: ${value.message}` };
    out += expressionString(value);
  }
  return { value: out };
}

/** What `resolveRuntimeStep` gives: the step ready to run, or why it cannot be. */
export type RuntimeStepResult = { readonly step: JobStep } | { readonly error: string };

/**
 * Renders every field a step lists in `runtime_expressions` (`env.<NAME>` first, so that the
 * others see the step's final env), and returns the step without that list, ready to run.
 * A step without the list is returned as is.
 *
 * @example
 *   const r = resolveRuntimeStep(step, { status, steps, contexts: { env: { ...request.env, ...githubEnv } } });
 *   if ("error" in r) failStep(r.error); else run(r.step);
 */
export function resolveRuntimeStep(step: JobStep, state: StepRunState): RuntimeStepResult {
  const fields = step.runtime_expressions ?? [];
  const { runtime_expressions: _listed, ...rest } = step;
  if (fields.length === 0) return { step: rest };
  const baseEnv = (state.contexts?.env ?? {}) as Record<string, unknown>;
  const env: Record<string, string> = { ...(step.env ?? {}) };
  const envState: StepRunState = { ...state, contexts: { ...state.contexts, env: { ...baseEnv, ...env } } };
  for (const field of fields.filter((f) => f.startsWith("env."))) {
    const name = field.slice("env.".length);
    const rendered = renderStepTemplate(env[name] ?? "", envState);
    if ("error" in rendered) return { error: `env.${name}: ${rendered.error}` };
    env[name] = rendered.value;
  }
  const finalState: StepRunState = { ...state, contexts: { ...state.contexts, env: { ...baseEnv, ...env } } };
  const out: JobStep = { ...rest, ...(step.env === undefined ? {} : { env }) };
  for (const field of fields) {
    if (field.startsWith("env.")) continue;
    if (field !== "run" && field !== "name" && field !== "shell" && field !== "working_directory") {
      return { error: `runtime_expressions lists "${field}", which is not a templated field` };
    }
    const rendered = renderStepTemplate(out[field] ?? "", finalState);
    if ("error" in rendered) return { error: `${field}: ${rendered.error}` };
    out[field] = rendered.value;
  }
  return { step: out };
}
