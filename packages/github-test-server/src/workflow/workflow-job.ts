import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import type { Job, Step } from "@actions/workflow-parser/model/workflow-template";
import type { MappingToken, TemplateToken } from "@actions/workflow-parser/templates/tokens/index";
import { isMapping, isSequence } from "@actions/workflow-parser/templates/tokens/type-guards";
import {
  type ActionsJob,
  type ActionsValue,
  contextDictionary,
  type DecodedScalars,
  decodedScalars,
  type ExpressionContexts,
  ExpressionFailure,
  evaluateValue,
  expandMatrix,
  type JsonValue,
  type MatrixCombination,
  validateActionsWorkflow,
} from "@solstice/common";
import { TestJobNotFoundError, TestWorkflowError } from "../errors.ts";

// One job of a workflow, as GitHub's server picks it for a job message: the job and matrix row
// chosen, `runs-on` and the display name evaluated, the `strategy` context, and the template
// tokens the runner evaluates itself (step `run`/`with`/`env`…, job `env`, `defaults`, `outputs`)
// kept as parsed, with their file positions.

/** A step of the chosen job, before it becomes a message step. */
export interface StepSource {
  /** The step's `id`, or the generated one (`__run`, `__run_2`, `__actions_checkout`). */
  readonly contextName: string;
  /** The condition, `success() && (…)` added when it has no status function. */
  readonly condition: string;
  /** The step's mapping as parsed. */
  readonly token: MappingToken;
}

/** The chosen job. */
export interface WorkflowJobSelection {
  /** `name:` of the workflow, or its file path. */
  readonly workflowName: string;
  readonly jobKey: string;
  readonly displayName: string;
  /** The matrix row; undefined without a matrix. */
  readonly matrix: MatrixCombination | undefined;
  readonly strategy: {
    readonly "fail-fast": boolean;
    readonly "job-index": number;
    readonly "job-total": number;
    readonly "max-parallel": number;
  };
  readonly runsOn: readonly string[];
  readonly workflowEnv: TemplateToken | undefined;
  readonly workflowDefaults: TemplateToken | undefined;
  readonly jobEnv: TemplateToken | undefined;
  readonly jobDefaults: TemplateToken | undefined;
  readonly jobOutputs: TemplateToken | undefined;
  readonly jobContainer: TemplateToken | undefined;
  readonly jobServices: TemplateToken | undefined;
  readonly jobTimeoutMinutes: TemplateToken | undefined;
  readonly steps: readonly StepSource[];
  /** The workflow's decoded scalars (multi-line strings with expressions are built from them). */
  readonly decoded: DecodedScalars;
}

/** What `selectWorkflowJob` reads. */
export interface WorkflowJobInput {
  readonly yaml: string;
  readonly file: string;
  readonly jobId?: string | undefined;
  readonly matrix?: Readonly<Record<string, unknown>> | undefined;
  /** Contexts `strategy` and `runs-on` may read (github, vars, inputs, needs). */
  readonly contexts: ExpressionContexts;
}

function entry(mapping: TemplateToken | undefined, key: string): TemplateToken | undefined {
  return mapping !== undefined && isMapping(mapping) ? mapping.find(key) : undefined;
}

function mappingEntry(value: ActionsValue | undefined, key: string): ActionsValue | undefined {
  return value?.kind === "mapping" ? value.entries.find(([k]) => k === key)?.[1] : undefined;
}

function scalarText(value: JsonValue): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Picks, expands and evaluates one job of a workflow. */
export async function selectWorkflowJob(input: WorkflowJobInput): Promise<WorkflowJobSelection> {
  const { file } = input;
  const validation = await validateActionsWorkflow(input.yaml, file);
  if (validation.workflow === undefined) {
    throw new TestWorkflowError(file, validation.errors.map((e) => e.toString()).join("; "));
  }
  const workflow = validation.workflow;
  const jobIds = workflow.jobs.map((j) => j.id);
  const job: ActionsJob | undefined =
    input.jobId === undefined ? workflow.jobs[0] : workflow.jobs.find((j) => j.id === input.jobId);
  if (job === undefined) {
    throw new TestJobNotFoundError(file, input.jobId ?? "", `no job ${input.jobId ?? "at all"}`, jobIds);
  }
  if (job.uses !== undefined)
    throw new TestWorkflowError(file, `job ${job.id} calls a reusable workflow: not supported`);

  const baseContexts = contextDictionary(input.contexts);
  const rows = expandMatrix(job.strategy, baseContexts);
  if (rows instanceof ExpressionFailure) throw new TestWorkflowError(file, `job ${job.id}: ${rows.message}`);
  const hasMatrix = mappingEntry(job.strategy, "matrix") !== undefined && rows.length > 0;
  const index = hasMatrix ? pickRow(rows, input.matrix, file, job.id) : 0;
  const matrix = hasMatrix ? rows[index] : undefined;
  const contexts = contextDictionary({ ...input.contexts, matrix: matrix ?? {} });

  const evaluate = (value: ActionsValue | undefined, what: string): JsonValue | undefined => {
    if (value === undefined) return undefined;
    const result = evaluateValue(value, contexts);
    if (result instanceof ExpressionFailure)
      throw new TestWorkflowError(file, `job ${job.id} ${what}: ${result.message}`);
    return result;
  };
  const runsOn = runsOnLabels(evaluate(job.runsOn, "runs-on"));
  if (runsOn.length === 0) throw new TestWorkflowError(file, `job ${job.id} has no runs-on labels`);
  const name = evaluate(job.name, "name");
  const displayName =
    name !== undefined && name !== null && name !== ""
      ? scalarText(name)
      : matrix === undefined
        ? job.id
        : `${job.id} (${Object.values(matrix).map(scalarText).join(", ")})`;
  const failFast = evaluate(mappingEntry(job.strategy, "fail-fast"), "strategy.fail-fast");
  const maxParallel = evaluate(mappingEntry(job.strategy, "max-parallel"), "strategy.max-parallel");
  const total = hasMatrix ? rows.length : 1;

  // The tokens as parsed, and the converted template for step ids and conditions.
  const parsed = parseWorkflow({ name: file, content: input.yaml }, new NoOperationTraceWriter());
  const root = parsed.value;
  if (root === undefined) throw new TestWorkflowError(file, "the workflow does not parse");
  const template = await convertWorkflowTemplate(parsed.context, root);
  const converted = template.jobs.find((j): j is Job => j.type === "job" && j.id.value === job.id);
  const jobToken = entry(entry(root, "jobs"), job.id);
  const stepsToken = entry(jobToken, "steps");
  if (converted === undefined || stepsToken === undefined || !isSequence(stepsToken)) {
    throw new TestWorkflowError(file, `job ${job.id} has no steps`);
  }
  const steps = [...stepsToken].map((token, i) => stepSource(token, converted.steps[i], file, job.id));

  return {
    workflowName: workflow.name ?? file,
    jobKey: job.id,
    displayName,
    matrix,
    strategy: {
      "fail-fast": typeof failFast === "boolean" ? failFast : true,
      "job-index": index,
      "job-total": total,
      "max-parallel": typeof maxParallel === "number" ? maxParallel : total,
    },
    runsOn,
    workflowEnv: entry(root, "env"),
    workflowDefaults: entry(root, "defaults"),
    jobEnv: entry(jobToken, "env"),
    jobDefaults: entry(jobToken, "defaults"),
    jobOutputs: entry(jobToken, "outputs"),
    jobContainer: entry(jobToken, "container"),
    jobServices: entry(jobToken, "services"),
    jobTimeoutMinutes: entry(jobToken, "timeout-minutes"),
    steps,
    decoded: decodedScalars(input.yaml),
  };
}

function stepSource(token: TemplateToken, step: Step | undefined, file: string, jobId: string): StepSource {
  if (!isMapping(token) || step === undefined || !("if" in step) || step.if === undefined) {
    throw new TestWorkflowError(file, `job ${jobId}: a step is not a run or uses step`);
  }
  return { contextName: step.id, condition: step.if.expression, token };
}

/** The index of the row every given key matches. */
function pickRow(
  rows: readonly MatrixCombination[],
  wanted: Readonly<Record<string, unknown>> | undefined,
  file: string,
  jobId: string,
): number {
  if (wanted === undefined) return 0;
  const index = rows.findIndex((row) =>
    Object.entries(wanted).every(([key, value]) => JSON.stringify(row[key]) === JSON.stringify(value)),
  );
  if (index < 0) {
    throw new TestJobNotFoundError(
      file,
      jobId,
      `no matrix row ${JSON.stringify(wanted)} in job ${jobId}`,
      rows.map((r) => JSON.stringify(r)),
    );
  }
  return index;
}

/** `runs-on` as labels: a label, a list, or `{group, labels}`. */
function runsOnLabels(value: JsonValue | undefined): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  if (value !== null && typeof value === "object")
    return runsOnLabels((value as { readonly [key: string]: JsonValue }).labels);
  return [];
}
