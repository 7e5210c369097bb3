// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Actions expressions are written `${{ … }}` in plain strings.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  type ActionsValue,
  ActionsWorkflowInvalidError,
  ActionsWorkflowSchemaError,
  ActionsWorkflowSyntaxError,
  formatWorkflowErrors,
  parseActionsWorkflow,
  SolsticeError,
  validateActionsWorkflow,
  WorkflowError,
} from "../src/index.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/actions/", import.meta.url));

function fixture(name: string): string {
  return readFileSync(`${FIXTURES}${name}`, "utf8");
}

/** A value as plain data, locations left out. */
function plain(value: ActionsValue | undefined): unknown {
  if (value === undefined) return undefined;
  switch (value.kind) {
    case "literal":
      return value.value;
    case "template":
      return { template: value.parts };
    case "expression":
      return { expression: value.expression };
    case "sequence":
      return value.items.map(plain);
    case "mapping":
      return Object.fromEntries(value.entries.map(([k, v]) => [k, plain(v)]));
  }
}

describe("parseActionsWorkflow", () => {
  it("reads the jobs and steps of a GitHub workflow", async () => {
    const wf = await parseActionsWorkflow(fixture("basic.yml"), ".github/workflows/basic.yml");
    expect(wf.file).toBe(".github/workflows/basic.yml");
    expect(wf.name).toBe("Basic");
    expect(wf.events).toEqual(["push", "pull_request"]);
    expect(wf.jobs.map((j) => j.id)).toEqual(["build"]);
    const job = wf.jobs[0]!;
    expect(plain(job.runsOn)).toBe("omnios-bloody");
    expect(job.at).toEqual({ line: 4, column: 3 });
    expect(
      job.steps.map((s) => ({ index: s.index, name: plain(s.name), run: plain(s.run), if: s.if })),
    ).toEqual([
      { index: 0, name: undefined, run: "uname -a", if: "success()" },
      { index: 1, name: "Build", run: "make\nmake check\n", if: "success()" },
    ]);
    expect(job.steps[1]!.at).toEqual({ line: 8, column: 9 });
  });

  it("reads a Forgejo task's single-job payload", async () => {
    const wf = await parseActionsWorkflow(fixture("forgejo-payload.yml"), "task-7.yml");
    expect(wf.jobs).toHaveLength(1);
    const job = wf.jobs[0]!;
    expect(job.id).toBe("job1");
    expect(plain(job.name)).toBe("job1 (omnios, 1.22)");
    expect(plain(job.strategy)).toEqual({ matrix: { go: ["1.22"], os: ["omnios"] } });
    expect(job.steps.map((s) => s.uses ?? plain(s.run))).toEqual([
      "actions/checkout@v4",
      {
        template: [
          'echo "$GREETING from ',
          { expression: "matrix.os" },
          " with go ",
          { expression: "matrix.go" },
          '"',
        ],
      },
    ]);
  });

  it("keeps each key's value, defaults and the status-wrapped conditions", async () => {
    const wf = await parseActionsWorkflow(fixture("env-defaults.yml"), "env.yml");
    expect(plain(wf.env)).toEqual({
      LEVEL: "workflow",
      WORKFLOW_ONLY: "w",
      SHA: { expression: "github.sha" },
    });
    expect(plain(wf.defaults.shell)).toBe("bash");
    expect(plain(wf.defaults.workingDirectory)).toBe("from-workflow");
    const job = wf.jobs[0]!;
    expect(plain(job.defaults.workingDirectory)).toBe("from-job");
    expect(job.defaults.shell).toBeUndefined();
    const step = job.steps[1]!;
    expect(plain(step.shell)).toBe("sh");
    expect(plain(step.workingDirectory)).toBe("own");

    const conditions = await parseActionsWorkflow(fixture("conditions.yml"), "c.yml");
    expect(conditions.jobs[0]!.steps.map((s) => s.if).slice(0, 6)).toEqual([
      "success()",
      "success() && (github.ref == 'refs/heads/main')",
      "success() && (github.ref == 'refs/heads/other')",
      "failure()",
      "always()",
      "!cancelled()",
    ]);
  });

  // @actions/workflow-parser builds a multi-line string's expression from its raw YAML source
  // (indentation kept, no folding, quotes kept): the decoded value is used instead.
  it.each([
    [
      "a literal block",
      "run: |\n          echo a\n          echo ${{ matrix.os }}\n",
      ["echo a\necho ", { expression: "matrix.os" }, "\n"],
    ],
    [
      "a folded block",
      "run: >-\n          echo a\n          ${{ matrix.os }}\n",
      ["echo a ", { expression: "matrix.os" }],
    ],
    [
      "a double-quoted string over two lines",
      'run: "echo \\"a\\"\n          ${{ matrix.os }}"\n',
      ['echo "a" ', { expression: "matrix.os" }],
    ],
    [
      "a plain string over two lines",
      "run: echo a\n          ${{ matrix.os }} b\n",
      ["echo a ", { expression: "matrix.os" }, " b"],
    ],
    [
      "an indentation indicator",
      "run: |2\n            indented ${{ matrix.os }}\n",
      ["  indented ", { expression: "matrix.os" }, "\n"],
    ],
    ["one line", "run: x ${{ 'it''s' }} {y}\n", ["x ", { expression: "'it''s'" }, " {y}"]],
  ])("decodes %s with expressions", async (_label, step, parts) => {
    const text = `on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - ${step}`;
    const wf = await parseActionsWorkflow(text, "w.yml");
    expect(plain(wf.jobs[0]!.steps[0]!.run)).toEqual({ template: parts });
  });

  it("keeps a whole-value expression typed", async () => {
    const wf = await parseActionsWorkflow(fixture("timeouts.yml"), "t.yml");
    expect(plain(wf.jobs[0]!.timeoutMinutes)).toBe(90);
    expect(plain(wf.jobs[0]!.steps[1]!.timeoutMinutes)).toEqual({ expression: "matrix.minutes" });
    expect(plain(wf.jobs[0]!.steps[3]!.continueOnError)).toEqual({ expression: "matrix.experimental" });
  });
});

describe("validateActionsWorkflow errors", () => {
  // Each broken file and every error it has, as `cidev validate` prints them.
  it.each([
    [
      "tab-indent.yml",
      ActionsWorkflowSyntaxError,
      ["tab-indent.yml:5:1: Tabs are not allowed as indentation"],
    ],
    [
      "bad-yaml.yml",
      ActionsWorkflowSyntaxError,
      ["bad-yaml.yml:5:5: Flow sequence in block collection must be sufficiently indented and end with a ]"],
    ],
    ["unknown-key.yml", ActionsWorkflowSchemaError, ["unknown-key.yml:5:5: Unexpected value 'stepz'"]],
    [
      "missing-jobs.yml",
      ActionsWorkflowSchemaError,
      ["missing-jobs.yml:1:1: Required property is missing: jobs"],
    ],
    [
      "duplicate-key.yml",
      ActionsWorkflowSchemaError,
      ["duplicate-key.yml:5:5: 'runs-on' is already defined"],
    ],
    [
      "duplicate-step-id.yml",
      ActionsWorkflowSchemaError,
      [
        "duplicate-step-id.yml:8:13: The identifier 'same' may not be used more than once within the same scope.",
      ],
    ],
    [
      "unclosed-expression.yml",
      ActionsWorkflowSchemaError,
      [
        "unclosed-expression.yml:6:14: The expression is not closed. An unescaped ${{ sequence was found, but the closing }} sequence was not found.",
      ],
    ],
    ["bad-if.yml", ActionsWorkflowSchemaError, ["bad-if.yml:7:13: Unexpected symbol: '&&'"]],
    [
      "bad-needs.yml",
      ActionsWorkflowSchemaError,
      ["bad-needs.yml:3:3: The workflow must contain at least one job with no dependencies."],
    ],
    [
      "several-errors.yml",
      ActionsWorkflowSchemaError,
      [
        "several-errors.yml:5:22: Unexpected value 'soon'",
        "several-errors.yml:7:9: There's not enough info to determine what you meant. Add one of these properties: run, shell, uses, with, working-directory",
        "several-errors.yml:8:19: Unexpected end of expression: '=='",
        "several-errors.yml:9:19: Unrecognized named-value: 'nope'",
        "several-errors.yml:10:28: Unexpected value 'maybe'",
      ],
    ],
  ])("%s", async (name, kind, expected) => {
    const { workflow, errors } = await validateActionsWorkflow(fixture(`invalid/${name}`), name);
    expect(workflow).toBeUndefined();
    expect(errors.map((e) => e.toString())).toEqual(expected);
    for (const error of errors) {
      expect(error).toBeInstanceOf(kind);
      expect(error).toBeInstanceOf(WorkflowError);
      expect(error.file).toBe(name);
      expect(error.hint).toBeTruthy();
    }
    expect(formatWorkflowErrors(errors)).toBe(expected.join("\n"));
  });

  it("an empty file is an error at 1:1", async () => {
    const { errors } = await validateActionsWorkflow("", "empty.yml");
    expect(errors.map((e) => e.toString())).toEqual([
      "empty.yml:1:1: Expected a scalar value, a sequence, or a mapping",
    ]);
  });

  it("parseActionsWorkflow throws every error at once", async () => {
    const error = await parseActionsWorkflow(fixture("invalid/several-errors.yml"), "ci.yml").catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ActionsWorkflowInvalidError);
    expect(error).toBeInstanceOf(SolsticeError);
    const invalid = error as ActionsWorkflowInvalidError;
    expect(invalid.code).toBe("ACTIONS_WORKFLOW_ERRORS");
    expect(invalid.errors).toHaveLength(5);
    expect(invalid.message.split("\n")[0]).toBe("ci.yml: 5 errors");
    expect(invalid.message).toContain("ci.yml:9:19: Unrecognized named-value: 'nope'");
  });

  it("valid fixtures have no errors", async () => {
    for (const name of [
      "basic.yml",
      "env-defaults.yml",
      "shells.yml",
      "conditions.yml",
      "expressions.yml",
      "checkout.yml",
      "uses.yml",
      "timeouts.yml",
      "matrix.yml",
      "secrets.yml",
      "forgejo-payload.yml",
      "job-conditions.yml",
    ]) {
      const { errors } = await validateActionsWorkflow(fixture(name), name);
      expect(errors.map(String), name).toEqual([]);
    }
  });
});
