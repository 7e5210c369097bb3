import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  formatWorkflowErrors,
  JobRequestSchema,
  kdlJobRequestFields,
  kdlJobToSteps,
  newJobRequest,
  parseWorkflow,
  parseWorkflowFile,
  SolsticeError,
  validateWorkflow,
  type Workflow,
  WorkflowDuplicateJobError,
  WorkflowEmptyError,
  WorkflowError,
  WorkflowMissingPropertyError,
  WorkflowNoRootError,
  WorkflowReadError,
  WorkflowSyntaxError,
  WorkflowTypeError,
  WorkflowUnknownError,
  WorkflowValueError,
} from "../src/index.ts";

// The example from the original's docs, verbatim.
const ORIGINAL_EXAMPLE = `workflow name="Solstice CI" {
job id="build" runs_on="illumos-stable" {
step name="Format" run="cargo fmt --check"
step name="Clippy" run="cargo clippy -- -D warnings"
step name="Test" run="cargo test --workspace"
}
job id="lint" runs_on="ubuntu-22.04" {
step name="Lint" run="ruff check ."
}
}
`;

const EXAMPLE_FILE = fileURLToPath(new URL("../../../examples/workflow.kdl", import.meta.url));

/** The part of a workflow the original's parser produced. */
function shape(workflow: Workflow) {
  return {
    name: workflow.name,
    jobs: workflow.jobs.map((j) => ({
      id: j.id,
      runs_on: j.runs_on,
      steps: j.steps.map((s) => ({ name: s.name, run: s.run })),
    })),
  };
}

const ORIGINAL_SHAPE = {
  name: "Solstice CI",
  jobs: [
    {
      id: "build",
      runs_on: "illumos-stable",
      steps: [
        { name: "Format", run: "cargo fmt --check" },
        { name: "Clippy", run: "cargo clippy -- -D warnings" },
        { name: "Test", run: "cargo test --workspace" },
      ],
    },
    { id: "lint", runs_on: "ubuntu-22.04", steps: [{ name: "Lint", run: "ruff check ." }] },
  ],
};

describe("the original's example", () => {
  it("parses to exactly its jobs and steps", () => {
    const workflow = parseWorkflow(ORIGINAL_EXAMPLE, "workflow.kdl");
    expect(shape(workflow)).toEqual(ORIGINAL_SHAPE);
    expect([...workflow.jobsById.keys()]).toEqual(["build", "lint"]);
    expect(workflow.jobsById.get("lint")?.steps[0]?.run).toBe("ruff check .");
    // Nothing beyond the original's fields is invented.
    const build = workflow.jobsById.get("build")!;
    expect(build.env).toEqual({});
    expect(build.timeout_seconds).toBeUndefined();
    expect(build.steps[0]).toMatchObject({
      env: {},
      shell: undefined,
      if: undefined,
      timeout_seconds: undefined,
    });
  });

  it("examples/workflow.kdl parses to the same (with a label the shipped image map serves), named by its path", async () => {
    const workflow = await parseWorkflowFile(EXAMPLE_FILE);
    expect(shape(workflow)).toEqual(
      JSON.parse(JSON.stringify(ORIGINAL_SHAPE).replace('"illumos-stable"', '"illumos-latest"')),
    );
    expect(workflow.file).toBe(EXAMPLE_FILE);
    expect(workflow.jobs[0]?.location).toEqual({ line: 5, column: 3 });
    expect(workflow.jobs[0]?.steps[2]?.location).toEqual({ line: 8, column: 5 });
  });

  it("turns into JobRequest steps that the JobRequest schema accepts", () => {
    const workflow = parseWorkflow(ORIGINAL_EXAMPLE);
    const build = workflow.jobsById.get("build")!;
    expect(kdlJobToSteps(build)).toEqual([
      { name: "Format", run: "cargo fmt --check" },
      { name: "Clippy", run: "cargo clippy -- -D warnings" },
      { name: "Test", run: "cargo test --workspace" },
    ]);
    const request = newJobRequest({
      source: "manual",
      repo_url: "https://example.org/repo.git",
      commit_sha: "0123456789abcdef0123456789abcdef01234567",
      ...kdlJobRequestFields(build, ".solstice/workflow.kdl"),
    });
    expect(JobRequestSchema.parse(JSON.parse(JSON.stringify(request)))).toEqual(request);
    expect(request).toMatchObject({
      workflow_path: ".solstice/workflow.kdl",
      workflow_job_id: "build",
      runs_on: "illumos-stable",
    });
  });
});

describe("the format", () => {
  it("keeps jobs in file order, not sorted", () => {
    const wf = parseWorkflow(`workflow {
      job id="zeta" { step run="z" }
      job id="alpha" { step run="a" }
      job id="mid" { step run="m" }
    }`);
    expect(wf.jobs.map((j) => j.id)).toEqual(["zeta", "alpha", "mid"]);
    expect([...wf.jobsById.keys()]).toEqual(["zeta", "alpha", "mid"]);
    expect(wf.name).toBeUndefined();
  });

  it("reads the additive step and job properties and env nodes", () => {
    const wf = parseWorkflow(`workflow name="extras" {
  job id="build" runs_on="omnios-bloody" timeout=3600 debug_ssh=#true {
    env CI="true" LANG="C"
    env LANG="C.UTF-8"
    step name="Build" run="gmake" shell="bash" working_directory="src" timeout=600 continue_on_error=#true if="success()" {
      env CC="gcc" CFLAGS="-O2"
    }
    step run="""
      echo one
      echo two
      """ if="failure()"
  }
}`);
    const job = wf.jobs[0]!;
    expect(job).toMatchObject({
      id: "build",
      runs_on: "omnios-bloody",
      timeout_seconds: 3600,
      debug_ssh: true,
    });
    expect(job.env).toEqual({ CI: "true", LANG: "C.UTF-8" });
    expect(kdlJobToSteps(job)).toEqual([
      {
        name: "Build",
        run: "gmake",
        shell: "bash",
        working_directory: "src",
        timeout_seconds: 600,
        continue_on_error: true,
        if: "success()",
        env: { CC: "gcc", CFLAGS: "-O2" },
      },
      { run: "echo one\necho two", if: "failure()" },
    ]);
    expect(kdlJobRequestFields(job)).toEqual({
      workflow_path: null,
      workflow_job_id: "build",
      runs_on: "omnios-bloody",
      steps: kdlJobToSteps(job),
      env: { CI: "true", LANG: "C.UTF-8" },
      timeout_seconds: 3600,
      debug_ssh: true,
    });
  });

  it("ignores slashdashed nodes and properties, and keeps positions right after them", () => {
    const { workflow, errors } = validateWorkflow(
      `/-workflow name="old" { job { } }
workflow {
  /-job id="off" { step run=1 }
  job id="a" { step run="x" /-run=1; /-step; step name="n" /-name=2 run="y" }
  job id="b" {
    step \\
      run=2
  }
}`,
      "w.kdl",
    );
    expect(errors.map(String)).toEqual(["w.kdl:7:7: `run` must be a string, not a number (2)"]);
    expect(workflow).toBeUndefined();
  });

  it("counts lines the same with CRLF line endings", () => {
    const { errors } = validateWorkflow(
      'workflow {\r\n  job id="a" {\r\n    step name="x"\r\n  }\r\n}\r\n',
      "crlf.kdl",
    );
    expect(errors.map(String)).toEqual(["crlf.kdl:3:5: `step` without `run`"]);
  });
});

interface ErrorCase {
  readonly what: string;
  readonly source: string;
  readonly type: new (...args: never[]) => WorkflowError;
  readonly code: string;
  readonly line: number;
  readonly column: number;
  readonly detail: string;
  /** The `line:column: note: …` line a syntax error adds when both KDL versions were tried. */
  readonly note?: string;
}

const ERROR_CASES: readonly ErrorCase[] = [
  {
    what: "no workflow root",
    source: 'job id="build" {\n  step run="make"\n}\n',
    type: WorkflowNoRootError,
    code: "WORKFLOW_NO_ROOT",
    line: 1,
    column: 1,
    detail: "no `workflow` root node (found `job`)",
  },
  {
    what: "an empty file",
    source: "// nothing here\n",
    type: WorkflowNoRootError,
    code: "WORKFLOW_NO_ROOT",
    line: 1,
    column: 1,
    detail: "no `workflow` root node (the file is empty)",
  },
  {
    what: "job without id",
    source: 'workflow {\n  job runs_on="x" {\n    step run="make"\n  }\n}\n',
    type: WorkflowMissingPropertyError,
    code: "WORKFLOW_MISSING_PROPERTY",
    line: 2,
    column: 3,
    detail: "`job` without `id`",
  },
  {
    what: "duplicate job id",
    source:
      'workflow {\n  job id="a" { step run="x" }\n  job id="b" { step run="y" }\n    job id="a" { step run="z" }\n}\n',
    type: WorkflowDuplicateJobError,
    code: "WORKFLOW_DUPLICATE_JOB",
    line: 4,
    column: 9,
    detail: 'duplicate job id "a" (first defined at 2:7)',
  },
  {
    what: "step without run",
    source: 'workflow {\n  job id="a" {\n    step name="Test"\n  }\n}\n',
    type: WorkflowMissingPropertyError,
    code: "WORKFLOW_MISSING_PROPERTY",
    line: 3,
    column: 5,
    detail: "`step` without `run`",
  },
  {
    what: "run of the wrong type",
    source: 'workflow {\n  job id="a" {\n    step name="n" run=1\n  }\n}\n',
    type: WorkflowTypeError,
    code: "WORKFLOW_WRONG_TYPE",
    line: 3,
    column: 19,
    detail: "`run` must be a string, not a number (1)",
  },
  {
    what: "id of the wrong type",
    source: 'workflow {\n\tjob id=#true { step run="x" }\n}\n',
    type: WorkflowTypeError,
    code: "WORKFLOW_WRONG_TYPE",
    line: 2,
    column: 6,
    detail: "`id` must be a string, not #true",
  },
  {
    what: "timeout given as a string",
    source: 'workflow {\n  job id="a" {\n    step run="x" timeout="60"\n  }\n}\n',
    type: WorkflowTypeError,
    code: "WORKFLOW_WRONG_TYPE",
    line: 3,
    column: 18,
    detail: '`timeout` must be a whole number of seconds, not a string ("60")',
  },
  {
    what: "continue_on_error not a boolean",
    source: 'workflow {\n  job id="a" {\n    step run="x" continue_on_error="yes"\n  }\n}\n',
    type: WorkflowTypeError,
    code: "WORKFLOW_WRONG_TYPE",
    line: 3,
    column: 18,
    detail: '`continue_on_error` must be #true or #false, not a string ("yes")',
  },
  {
    what: "an env value that is not a string",
    source: 'workflow {\n  job id="a" {\n    env PORT=8080\n    step run="x"\n  }\n}\n',
    type: WorkflowTypeError,
    code: "WORKFLOW_WRONG_TYPE",
    line: 3,
    column: 9,
    detail: "`PORT` must be a string, not a number (8080)",
  },
  {
    what: "a zero timeout",
    source: 'workflow {\n  job id="a" timeout=0 {\n    step run="x"\n  }\n}\n',
    type: WorkflowValueError,
    code: "WORKFLOW_BAD_VALUE",
    line: 2,
    column: 14,
    detail: "`timeout` must be a whole number of seconds above 0, not 0",
  },
  {
    what: "an empty id",
    source: 'workflow {\n  job id="" { step run="x" }\n}\n',
    type: WorkflowValueError,
    code: "WORKFLOW_BAD_VALUE",
    line: 2,
    column: 7,
    detail: "`id` must not be empty",
  },
  {
    what: "an unknown property, with a suggestion",
    source: 'workflow {\n  job id="a" runs-on="x" { step run="y" }\n}\n',
    type: WorkflowUnknownError,
    code: "WORKFLOW_UNKNOWN",
    line: 2,
    column: 14,
    detail: "unknown property `runs-on` on `job`; did you mean `runs_on`?",
  },
  {
    what: "an unquoted command with a space",
    source: 'workflow {\n  job id="a" {\n    step run=cargo test\n  }\n}\n',
    type: WorkflowUnknownError,
    code: "WORKFLOW_UNKNOWN",
    line: 3,
    column: 20,
    detail: 'unexpected argument "test" on `step`',
  },
  {
    what: "a step directly under workflow",
    source: 'workflow {\n  job id="a" { step run="y" }\n  step run="z"\n}\n',
    type: WorkflowUnknownError,
    code: "WORKFLOW_UNKNOWN",
    line: 3,
    column: 3,
    detail: "unexpected node `step` in `workflow`",
  },
  {
    what: "a job without steps",
    source: 'workflow {\n  job id="a" {\n  }\n}\n',
    type: WorkflowEmptyError,
    code: "WORKFLOW_EMPTY",
    line: 2,
    column: 3,
    detail: 'job "a" has no steps',
  },
  {
    what: "a KDL syntax error: unterminated string",
    source: 'workflow {\n  job id="a" {\n    step run="make\n  }\n}\n',
    type: WorkflowSyntaxError,
    code: "WORKFLOW_SYNTAX",
    line: 3,
    column: 19,
    detail: "string not closed before the end of the line",
    // KDL 1 strings may span lines: as KDL 1 it runs on to the end of the file.
    note: "3:14: note: read as KDL 2; KDL 1 was tried too and stops earlier: string never closed: it runs on to the end of the file",
  },
  {
    what: "a KDL syntax error: an unclosed brace",
    source: 'workflow {\n  job id="a" {\n    step run="make"\n}\n',
    type: WorkflowSyntaxError,
    code: "WORKFLOW_SYNTAX",
    line: 5,
    column: 1,
    detail: "unexpected end of the file: the `{` at 1:10 is never closed",
    note: "5:1: note: read as KDL 2; KDL 1 was tried too, with the same error",
  },
  {
    what: "a KDL syntax error: a stray closing brace",
    source: 'workflow {\n  job id="a" { step run="x" }\n}\n}\n',
    type: WorkflowSyntaxError,
    code: "WORKFLOW_SYNTAX",
    line: 4,
    column: 1,
    detail: "unexpected `}`; expected the end of the file",
    // KDL 1 wants a `;` before the `}` of `{ step run="x" }`.
    note: "2:29: note: read as KDL 2; KDL 1 was tried too and stops earlier: unexpected `}`; expected the end of the node (a newline or `;`)",
  },
  {
    what: "a KDL syntax error: a KDL 1 boolean in a file marked KDL 2",
    source: '/- kdl-version 2\nworkflow {\n  job id="a" {\n    step run="x" continue_on_error=true\n  }\n}\n',
    type: WorkflowSyntaxError,
    code: "WORKFLOW_SYNTAX",
    line: 4,
    column: 36,
    detail: "`true` is not a KDL 2 value; write #true",
  },
  {
    what: "a KDL syntax error: a property without value",
    source: 'workflow {\n  job id= { step run="x" }\n}\n',
    type: WorkflowSyntaxError,
    code: "WORKFLOW_SYNTAX",
    // KDL 1 gets one token further (to the `{`), so its error is the one reported.
    line: 2,
    column: 11,
    detail: "unexpected `{`; expected a value",
    note: "2:9: note: read as KDL 1; KDL 2 was tried too and stops earlier: unexpected `=`; expected the end of the node (a newline or `;`)",
  },
];

describe("errors name the file, line and column", () => {
  it.each(ERROR_CASES)("$what → $line:$column", (c) => {
    const { workflow, errors } = validateWorkflow(c.source, ".solstice/workflow.kdl");
    expect(workflow).toBeUndefined();
    expect(errors).toHaveLength(1);
    const error = errors[0]!;
    expect(error).toBeInstanceOf(c.type);
    expect(error).toBeInstanceOf(WorkflowError);
    expect(error).toBeInstanceOf(SolsticeError);
    expect({ code: error.code, line: error.line, column: error.column, detail: error.detail }).toEqual({
      code: c.code,
      line: c.line,
      column: c.column,
      detail: c.detail,
    });
    expect(error.file).toBe(".solstice/workflow.kdl");
    const note = c.note === undefined ? "" : `\n.solstice/workflow.kdl:${c.note}`;
    expect(error.toString()).toBe(`.solstice/workflow.kdl:${c.line}:${c.column}: ${c.detail}${note}`);
    expect(error.message).toBe(error.toString());
    expect(error.hint).toBeTruthy();
    // parseWorkflow throws the same error.
    expect(() => parseWorkflow(c.source, ".solstice/workflow.kdl")).toThrow(error.message);
  });
});

describe("validateWorkflow", () => {
  it("collects every error of a file, in file order", () => {
    const source = `workflow name=1 {
  job id="build" {
    step name="Format"
    step run=2
  }
  job runs_on="ubuntu" {
    step run="ok"
  }
  job id="build" {
    step run="again" timeout=-5 shell=#true
  }
  job id="lint"
}
`;
    const { workflow, errors } = validateWorkflow(source, "ci.kdl");
    expect(workflow).toBeUndefined();
    expect(formatWorkflowErrors(errors).split("\n")).toEqual([
      "ci.kdl:1:10: `name` must be a string, not a number (1)",
      "ci.kdl:3:5: `step` without `run`",
      "ci.kdl:4:10: `run` must be a string, not a number (2)",
      "ci.kdl:6:3: `job` without `id`",
      'ci.kdl:9:7: duplicate job id "build" (first defined at 2:7)',
      "ci.kdl:10:22: `timeout` must be a whole number of seconds above 0, not -5",
      "ci.kdl:10:33: `shell` must be a string, not #true",
      'ci.kdl:12:3: job "lint" has no steps',
    ]);
    expect(errors.map((e) => e.constructor.name)).toEqual([
      "WorkflowTypeError",
      "WorkflowMissingPropertyError",
      "WorkflowTypeError",
      "WorkflowMissingPropertyError",
      "WorkflowDuplicateJobError",
      "WorkflowValueError",
      "WorkflowTypeError",
      "WorkflowEmptyError",
    ]);
  });

  it("returns the workflow and no errors for a valid file", () => {
    const { workflow, errors } = validateWorkflow(ORIGINAL_EXAMPLE, "ok.kdl");
    expect(errors).toEqual([]);
    expect(workflow?.jobs).toHaveLength(2);
  });

  it("names the default file <input> when none is given", () => {
    expect(() => parseWorkflow("nope")).toThrow("<input>:1:1: no `workflow` root node (found `nope`)");
  });

  it("throws WorkflowReadError for a missing file", async () => {
    const missing = "/nonexistent/.solstice/workflow.kdl";
    await expect(parseWorkflowFile(missing)).rejects.toBeInstanceOf(WorkflowReadError);
    await expect(parseWorkflowFile(missing)).rejects.toMatchObject({ code: "WORKFLOW_READ", file: missing });
  });
});
