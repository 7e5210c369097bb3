import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { ErrorPolicy } from "@actions/workflow-parser/model/convert";
import type {
  WorkflowJob as ConvertedJob,
  WorkflowTemplate,
} from "@actions/workflow-parser/model/workflow-template";
import type { TemplateValidationError } from "@actions/workflow-parser/templates/template-validation-error";
import type { MappingToken, TemplateToken } from "@actions/workflow-parser/templates/tokens/index";
import {
  ActionsWorkflowInvalidError,
  ActionsWorkflowSchemaError,
  ActionsWorkflowSyntaxError,
  type WorkflowError,
} from "../errors.ts";
import type { SourceLocation } from "../workflow/workflow-types.ts";
import type {
  ActionsJob,
  ActionsRunDefaults,
  ActionsStep,
  ActionsValue,
  ActionsWorkflow,
} from "./actions-workflow.ts";
import { type DecodedScalars, decodedScalars } from "./decoded-scalars.ts";
import { literalString, mappingEntry, toActionsValue, tokenLocation } from "./template-values.ts";

// An Actions workflow read by GitHub's own parser (`@actions/workflow-parser`): the YAML is
// checked against the workflow schema, expressions are parsed, then the template is converted
// (which adds the checks on job and step ids, `needs`, and wraps conditions in `success() && …`).
// Every error of both phases is reported, each at its file, line and column.

/** What `validateActionsWorkflow` found: the workflow when valid, else every error. */
export interface ActionsWorkflowValidation {
  /** Present exactly when `errors` is empty. */
  readonly workflow: ActionsWorkflow | undefined;
  /** Every problem, in file order. */
  readonly errors: readonly WorkflowError[];
}

const START: SourceLocation = { line: 1, column: 1 };

/**
 * Checks an Actions workflow (GitHub `.github/workflows/*.yml`, Forgejo `.forgejo/workflows/*.yml`,
 * or a Forgejo task's single-job payload) and returns it, or every error in it.
 *
 * @example
 *   const { workflow, errors } = await validateActionsWorkflow(text, ".github/workflows/ci.yml");
 *   for (const e of errors) console.error(e.toString()); // .github/workflows/ci.yml:7:9: Unexpected value 'stepz'
 */
export async function validateActionsWorkflow(
  text: string,
  file: string,
): Promise<ActionsWorkflowValidation> {
  const parsed = parseWorkflow({ name: file, content: text }, new NoOperationTraceWriter());
  const root = parsed.value;
  if (root === undefined) {
    const errors = parsed.context.errors.getErrors().map((e) => toWorkflowError(e, file, "syntax"));
    return { workflow: undefined, errors: sortErrors(errors) };
  }
  // Go on converting after schema errors, so that the id and `needs` checks report too; but a
  // conversion error where the schema already found one only repeats it in other words.
  const schemaErrors = parsed.context.errors.getErrors();
  const template = await convertWorkflowTemplate(parsed.context, root, undefined, {
    errorPolicy: ErrorPolicy.TryConversion,
  });
  const reported = new Set(schemaErrors.map(startOf));
  const errors = [
    ...schemaErrors,
    ...parsed.context.errors
      .getErrors()
      .slice(schemaErrors.length)
      .filter((e) => !reported.has(startOf(e))),
  ].map((e) => toWorkflowError(e, file, "schema"));
  if (errors.length > 0) return { workflow: undefined, errors: sortErrors(errors) };
  let decoded: DecodedScalars | undefined;
  const decode = () => {
    decoded ??= decodedScalars(text);
    return decoded;
  };
  return { workflow: buildWorkflow(file, root as MappingToken, template, decode), errors: [] };
}

/**
 * Parses an Actions workflow; throws `ActionsWorkflowInvalidError` carrying every error.
 *
 * @example
 *   const wf = await parseActionsWorkflow(text, ".forgejo/workflows/ci.yml");
 *   wf.jobs.map((j) => j.id); // ["build", "test"]
 */
export async function parseActionsWorkflow(text: string, file: string): Promise<ActionsWorkflow> {
  const { workflow, errors } = await validateActionsWorkflow(text, file);
  if (workflow === undefined) throw new ActionsWorkflowInvalidError(file, errors);
  return workflow;
}

function startOf(e: TemplateValidationError): string {
  return e.range === undefined ? "" : `${e.range.start.line}:${e.range.start.column}`;
}

function toWorkflowError(e: TemplateValidationError, file: string, kind: "syntax" | "schema"): WorkflowError {
  const at = e.range === undefined ? START : { line: e.range.start.line, column: e.range.start.column };
  // YAML errors carry their own "at line L, column C:" and a code excerpt: the location is ours.
  const detail = (e.rawMessage.split("\n")[0] ?? e.rawMessage)
    .replace(/ at line \d+, column \d+:?$/, "")
    .trim();
  const location = { file, ...at };
  return kind === "syntax"
    ? new ActionsWorkflowSyntaxError(location, detail)
    : new ActionsWorkflowSchemaError(location, detail);
}

function sortErrors(errors: WorkflowError[]): WorkflowError[] {
  const seen = new Set<string>();
  return errors
    .filter((e) => {
      const key = `${e.line}:${e.column}:${e.detail}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.column - b.column);
}

/** The mapping's entries by key, values converted lazily. */
class MappingReader {
  readonly #mapping: MappingToken;
  readonly #decode: () => DecodedScalars;
  readonly at: SourceLocation;

  constructor(mapping: MappingToken, decode: () => DecodedScalars, fallback: SourceLocation) {
    this.#mapping = mapping;
    this.#decode = decode;
    this.at = tokenLocation(mapping, fallback);
  }

  token(key: string): TemplateToken | undefined {
    return this.#mapping.find(key);
  }

  value(key: string): ActionsValue | undefined {
    const token = this.#mapping.find(key);
    return token === undefined ? undefined : toActionsValue(token, this.#decode, this.at);
  }

  string(key: string): string | undefined {
    return literalString(this.value(key));
  }
}

function runDefaults(owner: MappingReader): ActionsRunDefaults {
  const run = mappingEntry(owner.value("defaults"), "run");
  return { shell: mappingEntry(run, "shell"), workingDirectory: mappingEntry(run, "working-directory") };
}

function buildWorkflow(
  file: string,
  root: MappingToken,
  template: WorkflowTemplate,
  decode: () => DecodedScalars,
): ActionsWorkflow {
  const reader = new MappingReader(root, decode, START);
  const converted = new Map<string, ConvertedJob>((template.jobs ?? []).map((j) => [j.id.value, j]));
  const jobs: ActionsJob[] = [];
  const jobsToken = reader.token("jobs") as MappingToken | undefined;
  for (const pair of jobsToken ?? []) {
    const id = pair.key.toString();
    jobs.push(
      buildJob(id, pair.value as MappingToken, converted.get(id), decode, tokenLocation(pair.key, START)),
    );
  }
  return {
    file,
    name: reader.string("name"),
    events: Object.keys(template.events ?? {}),
    env: reader.value("env"),
    defaults: runDefaults(reader),
    jobs,
  };
}

function buildJob(
  id: string,
  token: MappingToken,
  converted: ConvertedJob | undefined,
  decode: () => DecodedScalars,
  at: SourceLocation,
): ActionsJob {
  const reader = new MappingReader(token, decode, at);
  const needs = reader.value("needs");
  const convertedSteps = converted?.type === "job" ? converted.steps : [];
  const steps: ActionsStep[] = [];
  const stepsToken = reader.token("steps");
  let index = 0;
  for (const stepToken of (stepsToken ?? []) as Iterable<TemplateToken>) {
    const step = convertedSteps[index];
    const stepIf =
      step !== undefined && "if" in step && step.if !== undefined ? step.if.expression : "success()";
    steps.push(buildStep(index, stepToken as MappingToken, stepIf, decode, reader.at));
    index += 1;
  }
  return {
    id,
    name: reader.value("name"),
    needs:
      needs?.kind === "sequence"
        ? needs.items.map(literalString).filter((n): n is string => n !== undefined)
        : [literalString(needs)].filter((n): n is string => n !== undefined),
    if: converted?.if.expression ?? "success()",
    runsOn: reader.value("runs-on"),
    env: reader.value("env"),
    defaults: runDefaults(reader),
    timeoutMinutes: reader.value("timeout-minutes"),
    continueOnError: reader.value("continue-on-error"),
    strategy: reader.value("strategy"),
    outputs: reader.value("outputs"),
    container: reader.value("container"),
    services: reader.value("services"),
    uses: reader.string("uses"),
    steps,
    at,
  };
}

function buildStep(
  index: number,
  token: MappingToken,
  condition: string,
  decode: () => DecodedScalars,
  fallback: SourceLocation,
): ActionsStep {
  const reader = new MappingReader(token, decode, fallback);
  return {
    index,
    id: reader.string("id"),
    name: reader.value("name"),
    if: condition,
    run: reader.value("run"),
    uses: reader.string("uses"),
    with: reader.value("with"),
    env: reader.value("env"),
    shell: reader.value("shell"),
    workingDirectory: reader.value("working-directory"),
    timeoutMinutes: reader.value("timeout-minutes"),
    continueOnError: reader.value("continue-on-error"),
    at: reader.at,
  };
}
