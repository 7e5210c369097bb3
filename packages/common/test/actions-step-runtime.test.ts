// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Actions expressions are written `${{ … }}` in plain strings.
import { describe, expect, it } from "vitest";
import { contextDictionary } from "../src/actions/expression-evaluator.ts";
import { residualExpression } from "../src/actions/expression-residual.ts";
import {
  type ActionsJobStatus,
  ExpressionFailure,
  evaluateExpression,
  evaluateStepCondition,
  expandMatrix,
  HASH_FILES_REFUSED,
  type JobStep,
  parseActionsWorkflow,
  renderStepTemplate,
  resolveRuntimeStep,
  type StepRecord,
  type StepRunState,
  translateJob,
} from "../src/index.ts";

describe("evaluateExpression (GitHub's @actions/expressions)", () => {
  const contexts = {
    github: { ref: "refs/heads/main", repository: "me/app", event: { commits: [{ id: "a" }, { id: "b" }] } },
    matrix: { os: "omnios", list: ["x", "y"] },
  };
  it.each<[string, unknown]>([
    ["github.ref == 'refs/heads/main'", true],
    ["GitHub.Ref == 'REFS/HEADS/MAIN'", true],
    ["contains(matrix.list, 'y')", true],
    ["contains('Hello', 'ELL')", true],
    ["startsWith(github.repository, 'me/')", true],
    ["endsWith(github.repository, '/nope')", false],
    ["format('{0}-{{x}}-{1}', matrix.os, 2)", "omnios-{x}-2"],
    ["join(matrix.list, ', ')", "x, y"],
    ["join(github.event.commits.*.id)", "a,b"],
    ["toJSON(matrix.list)", '[\n  "x",\n  "y"\n]'],
    ["fromJSON('{\"a\":[1,2]}').a[1]", 2],
    ["matrix.missing || 'default'", "default"],
    ["1 < 2 && !false", true],
    // Every doubled quote is one quote (the library's lexer unescapes only the first).
    [`format('printf ''%s'' ''{0}''', matrix.os)`, `printf '%s' 'omnios'`],
    [`'it''s ''quoted'' twice'`, `it's 'quoted' twice`],
  ])("%s", (expression, expected) => {
    const value = evaluateExpression(expression, contexts);
    expect(value).not.toBeInstanceOf(ExpressionFailure);
    const data = value as { coerceString(): string; kind: number };
    const plain =
      typeof expected === "boolean"
        ? (value as { value: boolean }).value
        : typeof expected === "number"
          ? (value as { number(): number }).number()
          : data.coerceString();
    expect(plain).toEqual(expected);
  });

  it("refuses hashFiles and reports parse errors", () => {
    expect(evaluateExpression("hashFiles('**/x')", {})).toEqual(new ExpressionFailure(HASH_FILES_REFUSED));
    expect((evaluateExpression("github.sha ==", {}) as ExpressionFailure).message).toBe(
      "Unexpected end of expression: '=='",
    );
    expect((evaluateExpression("nope.x", {}) as ExpressionFailure).message).toMatch(
      /Unrecognized named-value: 'nope'/,
    );
  });
});

describe("residualExpression: what translation leaves for the run", () => {
  const contexts = contextDictionary({
    github: { ref: "refs/heads/main" },
    matrix: { os: "omnios", n: 3, list: ["a"] },
    env: { KNOWN: "k" },
  });
  const knownEnv = new Set(["known"]);
  it.each<[string, "value" | "condition", string | { static: unknown }]>([
    ["matrix.os", "value", { static: "omnios" }],
    ["steps.a.outputs.v == matrix.os", "value", "steps.a.outputs.v == 'omnios'"],
    ["steps.a.outputs.v || matrix.n", "value", "steps.a.outputs.v || 3"],
    ["'' || steps.a.outputs.v || 'x'", "value", "steps.a.outputs.v || 'x'"],
    ["contains(matrix.list, steps.a.outputs.v)", "value", "contains(fromJSON('[\"a\"]'), steps.a.outputs.v)"],
    ["steps['my step'].outcome", "value", "steps['my step'].outcome"],
    ["env.KNOWN == env.OTHER", "value", "'k' == env.OTHER"],
    ["job.status == 'success'", "value", "job.status == 'success'"],
    ["format('it''s {0}', steps.x.outputs.y)", "value", "format('it''s {0}', steps.x.outputs.y)"],
    ["success() && (github.ref == 'refs/heads/main')", "condition", "success()"],
    ["success() && (github.ref == 'refs/heads/x')", "condition", { static: false }],
    // always() stays for the executor: a condition without a status function gets `success() &&`.
    ["always() && matrix.os == 'omnios'", "condition", "always()"],
    ["always() && steps.b.outcome == 'failure'", "condition", "always() && (steps.b.outcome == 'failure')"],
    ["failure() || always()", "condition", "failure() || always()"],
    ["!cancelled() && (matrix.n > 2)", "condition", "!cancelled()"],
    ["failure() && (steps.a.outcome == 'failure' || matrix.n == 3)", "condition", "failure()"],
    [
      "success() && (steps.a.outcome == 'failure' || matrix.n == 4)",
      "condition",
      "success() && (steps.a.outcome == 'failure')",
    ],
  ])("%s (%s)", (expression, mode, expected) => {
    const result = residualExpression(expression, { contexts, knownEnv, mode });
    if (typeof expected === "string") expect(result).toEqual({ kind: "runtime", expression: expected });
    else {
      expect(result).toMatchObject({ kind: "static" });
      const value = (result as { value: { coerceString(): string; value?: unknown } }).value;
      expect(value.value ?? value.coerceString()).toEqual(expected.static);
    }
  });

  // A residual evaluated at run time gives what the whole expression gives with every context.
  it.each<[string, ActionsJobStatus, Record<string, StepRecord>]>([
    ["success() && (steps.a.outputs.v == matrix.os)", "success", { a: { outputs: { v: "omnios" } } }],
    ["success() && (steps.a.outputs.v == matrix.os)", "success", { a: { outputs: { v: "other" } } }],
    ["failure() || steps.a.outcome == 'failure'", "success", { a: { outcome: "failure" } }],
    ["failure() || steps.a.outcome == 'failure'", "failure", { a: { outcome: "success" } }],
    ["!cancelled() && contains(matrix.list, steps.a.outputs.v)", "cancelled", { a: { outputs: { v: "a" } } }],
  ])("%s keeps its meaning (%s)", (expression, status, steps) => {
    const full = { github: { ref: "refs/heads/main" }, matrix: { os: "omnios", n: 3, list: ["a"] }, env: {} };
    const direct = evaluateExpression(expression, { ...full, steps }, status) as { coerceString(): string };
    const residual = residualExpression(expression, { contexts: contextDictionary(full), mode: "condition" });
    if ("expression" in residual) {
      const later = evaluateStepCondition(residual.expression, { status, steps });
      expect("run" in later && later.run).toBe(direct.coerceString() === "true");
    } else {
      throw new Error(`expected a runtime residual, got ${JSON.stringify(residual)}`);
    }
  });
});

describe("evaluateStepCondition", () => {
  const steps = {
    build: { outputs: { ok: "yes" }, outcome: "failure" as const, conclusion: "success" as const },
  };
  it.each<[string | undefined, ActionsJobStatus, boolean]>([
    [undefined, "success", true],
    [undefined, "failure", false],
    ["", "cancelled", false],
    ["failure()", "failure", true],
    ["failure()", "success", false],
    ["always()", "cancelled", true],
    ["cancelled()", "cancelled", true],
    ["!cancelled()", "failure", true],
    ["${{ success() }}", "success", true],
    ["true", "failure", false],
    ["steps.build.outputs.ok == 'yes'", "success", true],
    ["steps.build.outputs.ok == 'yes'", "failure", false],
    ["failure() || steps.build.outcome == 'failure'", "success", true],
    ["steps.build.conclusion == 'success' && job.status == 'success'", "success", true],
    ["env.FROM_STEP == 'x'", "success", true],
  ])("%s when %s → %s", (condition, status, run) => {
    expect(
      evaluateStepCondition(condition, { status, steps, contexts: { env: { FROM_STEP: "x" } } }),
    ).toEqual({ run });
  });

  it("gives an error for a condition that does not parse or fails", () => {
    expect(evaluateStepCondition("success( &&", { status: "success" })).toMatchObject({
      error: expect.stringMatching(/^if: Unexpected symbol/),
    });
    expect(evaluateStepCondition("hashFiles('x') != ''", { status: "success" })).toEqual({
      error: `if: ${HASH_FILES_REFUSED} in "hashFiles('x') != ''"`,
    });
  });
});

describe("renderStepTemplate and resolveRuntimeStep", () => {
  const state: StepRunState = {
    status: "success",
    steps: { version: { outputs: { version: "1.2" }, outcome: "success", conclusion: "success" } },
    contexts: { env: { FROM_STEP: "set-by-step" } },
  };

  it("renders the carried expressions and keeps escaped literal text literal", () => {
    expect(renderStepTemplate("v${{ steps.version.outputs.version }} ${{ env.FROM_STEP }}", state)).toEqual({
      value: "v1.2 set-by-step",
    });
    expect(renderStepTemplate("fix ${{ '${{' }} secrets.X }} ${{ steps.none.outputs.x }}.", state)).toEqual({
      value: "fix ${{ secrets.X }} .",
    });
    expect(renderStepTemplate("${{ fromJSON('x') }}", state)).toMatchObject({
      error: expect.stringMatching(/^\$\{\{ fromJSON\('x'\) \}\}: Error parsing JSON/),
    });
    expect(renderStepTemplate("a ${{ b", state)).toMatchObject({
      error: expect.stringContaining("without its closing"),
    });
  });

  it("resolves a translated step: env first, then the fields that see it", async () => {
    const workflow = await parseActionsWorkflow(
      `on: push
jobs:
  a:
    runs-on: x
    steps:
      - id: version
        run: echo "version=1.2" >> "$GITHUB_OUTPUT"
      - name: release \${{ steps.version.outputs.version }}
        env:
          TAG: v\${{ steps.version.outputs.version }}
          OS: \${{ matrix.os }}
        run: echo "\${{ env.TAG }} on \${{ env.OS }} \${{ env.FROM_STEP }}"
        working-directory: build-\${{ env.TAG }}
`,
      "w.yml",
    );
    const { request } = translateJob({ workflow, contexts: { matrix: { os: "omnios" } } });
    const step = request.steps[1]!;
    expect(step).toEqual({
      name: "release ${{ steps.version.outputs.version }}",
      env: { TAG: "v${{ steps.version.outputs.version }}", OS: "omnios" },
      run: 'echo "${{ env.TAG }} on omnios ${{ env.FROM_STEP }}"',
      working_directory: "build-${{ env.TAG }}",
      runtime_expressions: ["env.TAG", "name", "run", "working_directory"],
    });
    expect(resolveRuntimeStep(step, state)).toEqual({
      step: {
        name: "release 1.2",
        env: { TAG: "v1.2", OS: "omnios" },
        run: 'echo "v1.2 on omnios set-by-step"',
        working_directory: "build-v1.2",
      },
    });
    const plain: JobStep = { run: "echo ${{ not rendered }}" };
    expect(resolveRuntimeStep(plain, state)).toEqual({ step: plain });
    expect(resolveRuntimeStep({ run: "x", runtime_expressions: ["if"] }, state)).toEqual({
      error: 'runtime_expressions lists "if", which is not a templated field',
    });
  });
});

describe("expandMatrix", () => {
  it("follows GitHub's include/exclude rules", async () => {
    const workflow = await parseActionsWorkflow(
      `on: push
jobs:
  a:
    runs-on: x
    strategy:
      matrix:
        fruit: [apple, pear]
        animal: [cat, dog]
        include:
          - color: green
          - color: pink
            animal: cat
          - fruit: apple
            shape: circle
          - fruit: banana
          - fruit: banana
            animal: cat
    steps:
      - run: x
`,
      "m.yml",
    );
    // The example of GitHub's documentation, with its documented result.
    expect(expandMatrix(workflow.jobs[0]!.strategy, contextDictionary({}))).toEqual([
      { fruit: "apple", animal: "cat", color: "pink", shape: "circle" },
      { fruit: "apple", animal: "dog", color: "green", shape: "circle" },
      { fruit: "pear", animal: "cat", color: "pink" },
      { fruit: "pear", animal: "dog", color: "green" },
      { fruit: "banana" },
      { fruit: "banana", animal: "cat" },
    ]);
  });

  it("evaluates a matrix from an expression, and is one empty combination without a matrix", async () => {
    const workflow = await parseActionsWorkflow(
      `on: push
jobs:
  a:
    runs-on: x
    strategy:
      matrix: \${{ fromJSON(needs.plan.outputs.matrix) }}
    steps:
      - run: x
  b:
    runs-on: x
    steps:
      - run: x
`,
      "m.yml",
    );
    const needs = { plan: { outputs: { matrix: '{"os":["a","b"],"exclude":[{"os":"b"}]}' } } };
    expect(expandMatrix(workflow.jobs[0]!.strategy, contextDictionary({ needs }))).toEqual([{ os: "a" }]);
    expect(expandMatrix(workflow.jobs[1]!.strategy, contextDictionary({}))).toEqual([{}]);
    expect(
      expandMatrix(
        workflow.jobs[0]!.strategy,
        contextDictionary({ needs: { plan: { outputs: { matrix: "[1]" } } } }),
      ),
    ).toEqual(new ExpressionFailure("strategy.matrix must be a mapping"));
  });
});
