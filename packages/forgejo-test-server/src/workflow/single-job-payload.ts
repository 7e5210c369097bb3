import YAML from "yaml";
import { TestJobNotFoundError, TestWorkflowError } from "../errors.ts";
import { truncateUtf8 } from "../truncate-utf8.ts";
import { type InterpolationContexts, interpolate } from "./expression-interpolation.ts";
import { compareBytes, goDeepEqual, goSprint } from "./go-formatting.ts";
import { expandMatrix, type MatrixRow, matrixName, nameWithMatrix } from "./matrix.ts";
import { marshalLikeGo } from "./yaml-output.ts";

// What Forgejo stores as a job's `workflow_payload` and sends in Task.workflow_payload: the
// workflow cut down to one job and one matrix row, as act/jobparser's Parse and SingleWorkflow
// produce it, with `needs` erased (Forgejo's InsertRun keeps them in the job row instead). Only
// the fields jobparser's structs know survive, in their order:
//   workflow: name, on, env, jobs, defaults   (run-name, permissions, concurrency are dropped)
//   job:      name, runs-on, env, if, steps, timeout-minutes, services, strategy, container,
//             defaults, outputs, uses, with, secrets, concurrency
//   step:     id, if, name, uses, run, working-directory, shell, env, with, continue-on-error,
//             timeout-minutes
// Go string fields keep the value's text as written (`timeout-minutes: 10` comes out as
// `timeout-minutes: "10"`); YAML-node fields (`env`, `if`, `container`...) keep their type.

/** What {@link buildSingleJobPayload} needs. */
export interface SingleJobPayloadInput {
  /** The whole workflow file's YAML text. */
  readonly workflow: string;
  /** The file's path in the repository, for messages. */
  readonly file: string;
  /** Which job; default the first in the file. */
  readonly jobId?: string;
  /** Which matrix row: every key given must match; default the first row in Forgejo's order. */
  readonly matrix?: Readonly<Record<string, unknown>>;
  /** What `runs-on` and `name` may read besides `matrix`. */
  readonly contexts: Omit<InterpolationContexts, "matrix">;
}

/** One job's payload and what Forgejo reads from it. */
export interface SingleJobPayload {
  readonly jobId: string;
  /** The display name: `name` interpolated, or `id (v1, v2)`. */
  readonly jobName: string;
  /** The evaluated `runs-on` labels. */
  readonly runsOn: readonly string[];
  /** The chosen matrix row (empty without a matrix). */
  readonly matrix: MatrixRow;
  /** The job ids in the job's `needs` (erased from the payload). */
  readonly needs: readonly string[];
  /** Each step's name as Forgejo shows it: name, else uses, else run, else id. */
  readonly stepNames: readonly string[];
  /** The payload: a YAML document with exactly one job. */
  readonly yaml: string;
}

type Mapping = Record<string, unknown>;

/**
 * The task payload of one job of a workflow, as Forgejo builds it.
 *
 * @example
 *   buildSingleJobPayload({ workflow, file: ".forgejo/workflows/ci.yml", jobId: "test", matrix: { go: "1.22" }, contexts })
 */
export function buildSingleJobPayload(input: SingleJobPayloadInput): SingleJobPayload {
  const { typed, raw } = parseTwice(input.workflow, input.file);
  const jobsTyped = typed.jobs;
  const jobsRaw = asMapping(raw.jobs);
  if (!isMapping(jobsTyped) || jobsRaw === undefined) {
    throw new TestWorkflowError(input.file, "the workflow has no `jobs` mapping");
  }
  const ids = Object.keys(jobsTyped);
  const jobId = input.jobId ?? ids[0];
  if (jobId === undefined) throw new TestWorkflowError(input.file, "the workflow's `jobs` mapping is empty");
  const jobTyped = jobsTyped[jobId];
  const jobRaw = asMapping(jobsRaw[jobId]);
  if (!Object.hasOwn(jobsTyped, jobId)) {
    throw new TestJobNotFoundError(input.file, jobId, `no job "${jobId}" in the workflow`, ids);
  }
  if (!isMapping(jobTyped) || jobRaw === undefined) {
    throw new TestWorkflowError(input.file, `job "${jobId}" is not a mapping`);
  }

  const strategyTyped = asMapping(jobTyped.strategy);
  const strategyRaw = asMapping(jobRaw.strategy);
  const expansion = expandMatrix(strategyTyped?.matrix);
  if ("error" in expansion) throw new TestWorkflowError(input.file, `job "${jobId}": ${expansion.error}`);
  const row = pickRow(expansion.rows, input, jobId);
  const contexts: InterpolationContexts = { ...input.contexts, matrix: row };

  const rawName = stringField(input.file, jobTyped.name, jobRaw.name, `jobs.${jobId}.name`);
  const jobName = rawName === "" ? nameWithMatrix(jobId, row) : interpolate(rawName, contexts);
  const runsOn = runsOnLabels(jobTyped["runs-on"], jobRaw["runs-on"]).map((label) =>
    interpolate(label, contexts),
  );

  const steps: Mapping[] = [];
  const stepNames: string[] = [];
  const stepsTyped = Array.isArray(jobTyped.steps) ? jobTyped.steps : [];
  const stepsRaw = Array.isArray(jobRaw.steps) ? jobRaw.steps : [];
  stepsTyped.forEach((stepTyped: unknown, i: number) => {
    // jobparser drops null entries (`- ` with nothing after it).
    if (stepTyped === null || stepTyped === undefined) return;
    const stepRaw = asMapping(stepsRaw[i]);
    if (!isMapping(stepTyped) || stepRaw === undefined) {
      throw new TestWorkflowError(input.file, `jobs.${jobId}.steps[${i}] is not a mapping`);
    }
    const { step, name } = singleStep(input.file, `jobs.${jobId}.steps[${i}]`, stepTyped, stepRaw);
    steps.push(step);
    stepNames.push(name);
  });

  const job: Mapping = {};
  putString(job, "name", jobName);
  job["runs-on"] = runsOn.length === 1 ? runsOn[0] : [...runsOn];
  putNode(job, "env", jobTyped.env);
  putNode(job, "if", jobTyped.if);
  if (steps.length > 0) job.steps = steps;
  putString(
    job,
    "timeout-minutes",
    stringField(
      input.file,
      jobTyped["timeout-minutes"],
      jobRaw["timeout-minutes"],
      `jobs.${jobId}.timeout-minutes`,
    ),
  );
  putNode(job, "services", jobTyped.services);
  const strategy: Mapping = {};
  putString(
    strategy,
    "fail-fast",
    stringField(input.file, strategyTyped?.["fail-fast"], strategyRaw?.["fail-fast"], "strategy.fail-fast"),
  );
  putString(
    strategy,
    "max-parallel",
    stringField(
      input.file,
      strategyTyped?.["max-parallel"],
      strategyRaw?.["max-parallel"],
      "strategy.max-parallel",
    ),
  );
  if (Object.keys(row).length > 0) {
    // map[string][]any: keys sorted, each value a one-element list.
    strategy.matrix = Object.fromEntries(
      Object.keys(row)
        .sort(compareBytes)
        .map((k) => [k, [row[k]]]),
    );
  }
  if (Object.keys(strategy).length > 0) job.strategy = strategy;
  putNode(job, "container", jobTyped.container);
  putDefaults(input.file, job, jobTyped.defaults, jobRaw.defaults, `jobs.${jobId}.defaults`);
  putStringMap(input.file, job, "outputs", jobTyped.outputs, jobRaw.outputs, `jobs.${jobId}.outputs`);
  putString(job, "uses", stringField(input.file, jobTyped.uses, jobRaw.uses, `jobs.${jobId}.uses`));
  if (isMapping(jobTyped.with) && Object.keys(jobTyped.with).length > 0)
    job.with = sortedMapping(jobTyped.with);
  putNode(job, "secrets", jobTyped.secrets);
  putNode(job, "concurrency", jobTyped.concurrency);

  const workflow: Mapping = {};
  putString(workflow, "name", stringField(input.file, typed.name, raw.name, "name"));
  putNode(workflow, "on", typed.on);
  putStringMap(input.file, workflow, "env", typed.env, raw.env, "env");
  workflow.jobs = { [jobId]: job };
  putDefaults(input.file, workflow, typed.defaults, raw.defaults, "defaults");

  return {
    jobId,
    jobName,
    runsOn,
    matrix: row,
    needs: needsOf(jobTyped.needs),
    stepNames,
    yaml: marshalLikeGo(workflow),
  };
}

/** The document as typed values, and as the text of each scalar (what Go decodes into strings). */
function parseTwice(text: string, file: string): { typed: Mapping; raw: Mapping } {
  const doc = YAML.parseDocument(text, { merge: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const at = first.linePos?.[0];
    const where = at === undefined ? "" : `${at.line}:${at.col}: `;
    throw new TestWorkflowError(file, `${where}${first.message}`, {
      cause: first,
      hint: "the workflow must be valid YAML",
    });
  }
  const typed: unknown = doc.toJS();
  const raw: unknown = YAML.parse(text, { schema: "failsafe", merge: true });
  if (!isMapping(typed) || !isMapping(raw))
    throw new TestWorkflowError(file, "the workflow is not a YAML mapping");
  return { typed, raw };
}

function pickRow(rows: readonly MatrixRow[], input: SingleJobPayloadInput, jobId: string): MatrixRow {
  const wanted = input.matrix;
  const row =
    wanted === undefined
      ? rows[0]
      : rows.find((r) =>
          Object.entries(wanted).every(
            ([k, v]) => Object.hasOwn(r, k) && (goDeepEqual(r[k], v) || goSprint(r[k]) === goSprint(v)),
          ),
        );
  if (row === undefined) {
    throw new TestJobNotFoundError(
      input.file,
      jobId,
      wanted === undefined
        ? `job "${jobId}" expands to no matrix row`
        : `job "${jobId}" has no matrix row matching ${JSON.stringify(wanted)}`,
      rows.map(matrixName),
    );
  }
  return row;
}

function singleStep(
  file: string,
  path: string,
  typed: Mapping,
  raw: Mapping,
): { step: Mapping; name: string } {
  const text = (key: string): string => stringField(file, typed[key], raw[key], `${path}.${key}`);
  const step: Mapping = {};
  putString(step, "id", text("id"));
  putNode(step, "if", typed.if);
  putString(step, "name", text("name"));
  putString(step, "uses", text("uses"));
  putString(step, "run", text("run"));
  putString(step, "working-directory", text("working-directory"));
  putString(step, "shell", text("shell"));
  putNode(step, "env", typed.env);
  putStringMap(file, step, "with", typed.with, raw.with, `${path}.with`);
  const continueOnError = typed["continue-on-error"];
  if (continueOnError !== undefined && continueOnError !== null && typeof continueOnError !== "boolean") {
    // jobparser's Step.ContinueOnError is a Go bool: Forgejo refuses the workflow.
    throw new TestWorkflowError(
      file,
      `${path}.continue-on-error: cannot unmarshal ${JSON.stringify(continueOnError)} into bool`,
      { hint: "Forgejo's jobparser only accepts true or false here" },
    );
  }
  if (continueOnError === true) step["continue-on-error"] = true;
  putString(step, "timeout-minutes", text("timeout-minutes"));
  // model.Step.String(), cut at 255 bytes as Forgejo stores it.
  const name = truncateUtf8(text("name") || text("uses") || text("run") || text("id"), 255);
  return { step, name };
}

/** act's Job.RunsOn(): a label, a list of labels, or `{group, labels}`. */
function runsOnLabels(typed: unknown, raw: unknown): string[] {
  if (isMapping(typed) && isMapping(raw)) {
    const labels = stringList(raw.labels);
    const group = typeof raw.group === "string" ? raw.group : "";
    return group === "" ? labels : [...labels, group];
  }
  return stringList(raw);
}

function stringList(raw: unknown): string[] {
  if (typeof raw === "string") return [raw];
  if (Array.isArray(raw)) return raw.filter((v): v is string => typeof v === "string");
  return [];
}

function needsOf(typed: unknown): string[] {
  if (typeof typed === "string") return [typed];
  if (Array.isArray(typed)) return typed.map((v) => String(v));
  return [];
}

/** A Go `string` field: the scalar's text; null is empty; a list or mapping cannot decode. */
function stringField(file: string, typed: unknown, raw: unknown, path: string): string {
  if (typed === undefined || typed === null) return "";
  if (typeof raw !== "string") {
    throw new TestWorkflowError(
      file,
      `${path}: cannot unmarshal a ${Array.isArray(raw) ? "list" : "mapping"} into string`,
    );
  }
  return raw;
}

function putString(target: Mapping, key: string, value: string): void {
  if (value !== "") target[key] = value;
}

function putNode(target: Mapping, key: string, value: unknown): void {
  if (value !== undefined && value !== null) target[key] = value;
}

/** A Go `map[string]string` field: the values' text, keys sorted. */
function putStringMap(
  file: string,
  target: Mapping,
  key: string,
  typed: unknown,
  raw: unknown,
  path: string,
): void {
  if (typed === undefined || typed === null) return;
  if (!isMapping(typed) || !isMapping(raw)) throw new TestWorkflowError(file, `${path}: must be a mapping`);
  const entries = Object.keys(typed)
    .sort(compareBytes)
    .map((k) => [k, stringField(file, typed[k], raw[k], `${path}.${k}`)] as const);
  if (entries.length > 0) target[key] = Object.fromEntries(entries);
}

/** jobparser's Defaults: only `run.shell` and `run.working-directory`. */
function putDefaults(file: string, target: Mapping, typed: unknown, raw: unknown, path: string): void {
  const runTyped = isMapping(typed) ? asMapping(typed.run) : undefined;
  const runRaw = isMapping(raw) ? asMapping(raw.run) : undefined;
  if (runTyped === undefined || runRaw === undefined) return;
  const run: Mapping = {};
  putString(run, "shell", stringField(file, runTyped.shell, runRaw.shell, `${path}.run.shell`));
  putString(
    run,
    "working-directory",
    stringField(
      file,
      runTyped["working-directory"],
      runRaw["working-directory"],
      `${path}.run.working-directory`,
    ),
  );
  if (Object.keys(run).length > 0) target.defaults = { run };
}

function sortedMapping(m: Mapping): Mapping {
  return Object.fromEntries(
    Object.keys(m)
      .sort(compareBytes)
      .map((k) => [k, m[k]]),
  );
}

function isMapping(value: unknown): value is Mapping {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function asMapping(value: unknown): Mapping | undefined {
  return isMapping(value) ? value : undefined;
}
