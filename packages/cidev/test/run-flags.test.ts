import { type MatrixCombination, parseActionsWorkflow } from "@solstice/common";
import { InvalidArgumentError } from "commander";
import { describe, expect, test } from "vitest";
import { assignments, KEY_NAME, parseAssignment, VARIABLE_NAME } from "../src/cli/assignment.ts";
import { DotenvSyntaxError, parseDotenv } from "../src/run/dotenv.ts";
import { Interrupts, unlessInterrupted } from "../src/run/interrupts.ts";
import { JobOrderError, orderJobs } from "../src/run/job-order.ts";
import { needFromRuns, renderJobOutputs } from "../src/run/job-results.ts";
import { MatrixSelectionError, selectMatrixRows } from "../src/run/matrix-rows.ts";
import { runContextsFrom } from "../src/run/run-inputs.ts";
import { jobMatrixRows, translateWorkflowJob } from "../src/workflow/job-translation.ts";
import type { LoadedWorkflow } from "../src/workflow/load-workflow.ts";
import { tempFiles } from "./cli-support.ts";

// The pure parts of `cidev run`'s flags: NAME=VALUE parsing, dotenv files, matrix row selection,
// the order of jobs by `needs`, job outputs and results for `needs`, and the contexts the flags
// give the translation (secrets masked, vars, inputs, event, matrix row).

describe("NAME=VALUE flags", () => {
  test("split at the first =, later flags win, bad names refused", () => {
    expect(parseAssignment("TOKEN=a=b", VARIABLE_NAME)).toEqual({ name: "TOKEN", value: "a=b" });
    expect(parseAssignment("EMPTY=", VARIABLE_NAME)).toEqual({ name: "EMPTY", value: "" });
    expect(() => parseAssignment("novalue", VARIABLE_NAME)).toThrow(InvalidArgumentError);
    expect(() => parseAssignment("=x", VARIABLE_NAME)).toThrow(/expected NAME=VALUE/);
    expect(() => parseAssignment("node-version=20", VARIABLE_NAME)).toThrow(/not a valid name/);
    expect(parseAssignment("node-version=20", KEY_NAME)).toEqual({ name: "node-version", value: "20" });
    expect(() => parseAssignment(`A=${"x".repeat(64 * 1024 + 1)}`, VARIABLE_NAME)).toThrow(/longer than/);
    const collect = assignments(VARIABLE_NAME);
    expect(collect("B=2", collect("A=1", undefined))).toEqual({ A: "1", B: "2" });
    expect(collect("A=3", { A: "1" })).toEqual({ A: "3" });
    let many: Record<string, string> = {};
    for (let i = 0; i < 256; i++) many = collect(`V${i}=x`, many);
    expect(() => collect("ONE_MORE=x", many)).toThrow(/at most 256/);
  });
});

describe("dotenv (--secret-file, --env-file, --var-file)", () => {
  test("comments, export, quotes, escapes, multi-line values", () => {
    const text = [
      "# a comment",
      "",
      "TOKEN=abc123",
      "export USER_NAME = bob  # trailing comment",
      "SINGLE='keep $HOME \\n as is'",
      'DOUBLE="line1\\nline2 \\"q\\""',
      'KEY="-----BEGIN KEY-----',
      "abc",
      '-----END KEY-----"',
      "HASH=a#b",
      "TOKEN=later wins",
    ].join("\n");
    expect(parseDotenv(text)).toEqual({
      TOKEN: "later wins",
      USER_NAME: "bob",
      SINGLE: "keep $HOME \\n as is",
      DOUBLE: 'line1\nline2 "q"',
      KEY: "-----BEGIN KEY-----\nabc\n-----END KEY-----",
      HASH: "a#b",
    });
  });

  test("errors name the line", () => {
    expect(() => parseDotenv("A=1\njust words\n")).toThrow(new DotenvSyntaxError(2, "expected NAME=VALUE"));
    expect(() => parseDotenv("A='open\n")).toThrow(/line 1: unterminated single quote/);
    expect(() => parseDotenv('A="open\nB=2\n')).toThrow(/line 1: unterminated double quote/);
    expect(() => parseDotenv("1A=x")).toThrow(/line 1: "1A" is not a valid name/);
  });
});

describe("matrix rows (--matrix)", () => {
  const rows: MatrixCombination[] = [
    { os: "omnios", v: 1 },
    { os: "omnios", v: 2 },
    { os: "freebsd", v: 1 },
    { os: "freebsd", v: 2, extra: true },
  ];
  test("every row without filters; filters compare as text", () => {
    expect(selectMatrixRows("t", rows, {})).toEqual(rows);
    expect(selectMatrixRows("t", rows, { v: "2" })).toEqual([rows[1], rows[3]]);
    expect(selectMatrixRows("t", rows, { os: "freebsd", v: "2" })).toEqual([rows[3]]);
    expect(selectMatrixRows("t", rows, { extra: "true" })).toEqual([rows[3]]);
  });

  test("no matching row, or an unknown key: an error listing the rows", () => {
    expect(() => selectMatrixRows("t", rows, { os: "linux" })).toThrow(MatrixSelectionError);
    try {
      selectMatrixRows("t", rows, { os: "linux" });
    } catch (error) {
      expect((error as MatrixSelectionError).message).toBe('job "t": no matrix row has os=linux');
      expect((error as MatrixSelectionError).hint).toContain("  os=freebsd, v=2, extra=true");
      expect((error as MatrixSelectionError).exitCode).toBe(2);
    }
    expect(() => selectMatrixRows("t", rows, { arch: "x86" })).toThrow(
      'job "t": no matrix key arch (its keys: os, v, extra)',
    );
    expect(() => selectMatrixRows("plain", [{}], { os: "x" })).toThrow("it has no matrix");
    // With several jobs a filter may be meant for another job's matrix.
    expect(selectMatrixRows("plain", [{}], { os: "x" }, true)).toEqual([{}]);
  });
});

describe("job order (--all-jobs, --job)", () => {
  const jobs = [
    { id: "deploy", needs: ["test", "lint"] },
    { id: "test", needs: ["build"] },
    { id: "lint", needs: [] },
    { id: "build", needs: [] },
  ];
  test("each job after what it needs, else file order", () => {
    expect(orderJobs(jobs)).toEqual(["lint", "build", "test", "deploy"]);
    expect(orderJobs(jobs, ["deploy", "build"])).toEqual(["build", "deploy"]);
    expect(orderJobs(jobs, ["test"])).toEqual(["test"]);
  });

  test("unknown jobs and cycles are errors", () => {
    expect(() => orderJobs(jobs, ["nope", "test"])).toThrow(
      'no job "nope" (jobs: deploy, test, lint, build)',
    );
    expect(() =>
      orderJobs([
        { id: "a", needs: ["b"] },
        { id: "b", needs: ["a"] },
        { id: "c", needs: [] },
      ]),
    ).toThrow(JobOrderError);
  });
});

describe("job results for needs", () => {
  test("outputs rendered over the steps' outputs by step id", () => {
    const steps = [{ run: "x" }, { id: "meta", run: "y" }];
    const outputs = renderJobOutputs(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Actions expressions, not JS templates
      { version: "${{ steps.meta.outputs.version }}", fixed: "v-${{ steps.meta.outcome }}", none: "" },
      steps,
      new Map([[1, { version: "1.2.3" }]]),
      new Map([
        [0, "success"],
        [1, "success"],
      ]),
      "success",
    );
    expect(outputs).toEqual({ version: "1.2.3", fixed: "v-success", none: "" });
  });

  test("a failed row fails the job; outputs merged", () => {
    expect(
      needFromRuns([
        { result: "success", outputs: { a: "1" } },
        { result: "failure", outputs: { a: "2", b: "3" } },
      ]),
    ).toEqual({ result: "failure", outputs: { a: "2", b: "3" } });
    expect(needFromRuns([{ result: "skipped", outputs: {} }]).result).toBe("skipped");
    expect(
      needFromRuns([
        { result: "cancelled", outputs: {} },
        { result: "success", outputs: {} },
      ]).result,
    ).toBe("cancelled");
  });
});

describe("run contexts from the flags", () => {
  test("files first, flags over them; the event file must be a JSON object", async () => {
    const dir = await tempFiles({
      ".secrets": "TOKEN=from-file\nOTHER=o\n",
      "event.json": JSON.stringify({ pull_request: { head: { ref: "topic" }, base: { ref: "main" } } }),
      "bad.json": "[1]",
    });
    try {
      const run = await runContextsFrom({
        secret: { TOKEN: "from-flag" },
        secretFile: [`${dir.path}/.secrets`],
        var: { V: "1" },
        env: {},
        input: { level: "high" },
        event: "pull_request",
        eventFile: `${dir.path}/event.json`,
      });
      expect(run.secrets).toEqual({ TOKEN: "from-flag", OTHER: "o" });
      expect(run.eventName).toBe("pull_request");
      expect(run.eventPayload).toMatchObject({ pull_request: { head: { ref: "topic" } } });
      await expect(
        runContextsFrom({ secret: {}, var: {}, env: {}, input: {}, eventFile: `${dir.path}/bad.json` }),
      ).rejects.toThrow(/--event-file .*bad.json: not a JSON object/);
      await expect(
        runContextsFrom({ secret: {}, var: {}, env: {}, input: {}, secretFile: [`${dir.path}/none`] }),
      ).rejects.toThrow(/--secret-file .*none: ENOENT/);
      await expect(
        runContextsFrom({ secret: {}, var: {}, env: {}, input: {}, event: "Push!" }),
      ).rejects.toThrow(/not an event name/);
    } finally {
      await dir.remove();
    }
  });

  test("the translation sees secrets (masked), vars, inputs, the event, the chosen matrix row and needs", async () => {
    const yaml = `on: [push, pull_request, workflow_dispatch]
jobs:
  build:
    runs-on: fast
    outputs:
      tag: \${{ steps.t.outputs.tag }}
    steps:
      - id: t
        run: echo "tag=v1" >> "$GITHUB_OUTPUT"
  test:
    needs: build
    if: github.event_name == 'pull_request'
    runs-on: fast
    strategy:
      matrix:
        v: [1, 2]
    env:
      FROM_NEEDS: \${{ needs.build.outputs.tag }}
    steps:
      - run: echo "\${{ secrets.TOKEN }} \${{ vars.V }} \${{ inputs.level }} \${{ matrix.v }} \${{ github.head_ref }}"
`;
    const workflow = await parseActionsWorkflow(yaml, "ci.yml");
    const loaded: LoadedWorkflow = { format: "actions", file: "ci.yml", workflow };
    const base = {
      workflowPath: ".github/workflows/ci.yml",
      sha: "a".repeat(40),
      ref: "refs/heads/main",
      repository: "o/r",
      serverUrl: "https://example.invalid",
    };
    const run = {
      secrets: { TOKEN: "s3cret" },
      vars: { V: "var" },
      inputs: { level: "high" },
      eventName: "pull_request",
      eventPayload: { pull_request: { head: { ref: "topic" } } },
      needs: { build: { result: "success", outputs: { tag: "v1" } } },
    };
    const build = translateWorkflowJob(loaded, { ...base, jobId: "build" });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression
    expect(build.outputs).toEqual({ tag: "${{ steps.t.outputs.tag }}" });

    const rows = jobMatrixRows(loaded, "test", { ...base, run });
    expect(rows).toEqual([{ v: 1 }, { v: 2 }]);
    const t = translateWorkflowJob(loaded, { ...base, jobId: "test", run: { ...run, matrix: rows[1]! } });
    expect(t.shouldRun).toBe(true);
    expect(t.warnings).toEqual([]);
    expect(t.matrix).toEqual({ v: 2 });
    expect(t.fields.steps[0]!.run).toContain("s3cret var high 2 topic");
    expect(t.fields.mask).toContain("s3cret");
    expect(t.fields.env!["FROM_NEEDS"]).toBe("v1");
    expect(t.fields.env!["GITHUB_EVENT_NAME"]).toBe("pull_request");

    const onPush = translateWorkflowJob(loaded, {
      ...base,
      jobId: "test",
      run: { ...run, eventName: "push" },
    });
    expect(onPush.shouldRun).toBe(false);
    const needFailed = translateWorkflowJob(loaded, {
      ...base,
      jobId: "test",
      run: { ...run, needs: { build: { result: "failure" } } },
    });
    expect(needFailed.shouldRun).toBe(false);
  });
});

describe("Ctrl-C before a job runs", () => {
  test("the first interrupt aborts the wait at once; what finishes later is cleaned up", async () => {
    const interrupts = Interrupts.install(() => {
      throw new Error("no hard exit expected");
    });
    try {
      let resolveWork: (v: string) => void = () => undefined;
      const work = new Promise<string>((resolve) => {
        resolveWork = resolve;
      });
      const cleaned: string[] = [];
      const waiting = unlessInterrupted(interrupts.signal, work, async (late) => {
        cleaned.push(late);
      });
      interrupts.interrupt();
      expect(await waiting).toBeUndefined();
      resolveWork("late service");
      await new Promise((resolve) => setImmediate(resolve));
      expect(cleaned).toEqual(["late service"]);
      expect(interrupts.count).toBe(1);
    } finally {
      interrupts.dispose();
    }
  });

  test("a second interrupt with no handler exits at once; a handler takes them over", () => {
    const exits: number[] = [];
    const interrupts = Interrupts.install(() => exits.push(interrupts.count));
    try {
      const seen: number[] = [];
      const restore = interrupts.handle((count) => seen.push(count));
      interrupts.interrupt();
      interrupts.interrupt();
      expect(seen).toEqual([1, 2]);
      expect(exits).toEqual([]);
      restore();
      interrupts.interrupt();
      expect(exits).toEqual([3]);
    } finally {
      interrupts.dispose();
    }
  });
});
