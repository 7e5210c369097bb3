// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Actions expressions are written `${{ … }}` in plain strings.
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  buildSingleJobPayload,
  decideLogWrite,
  TestJobNotFoundError,
  TestWorkflowError,
} from "../src/index.ts";

// The payload Forgejo stores for one job (act/jobparser, then InsertRun erasing `needs`), and the
// UpdateLog acknowledgement table: pure functions, checked against what Forgejo's code does.

const contexts = { vars: { RUNNER: "big-box" }, github: { ref_name: "main" } };

function build(workflow: string, options: { jobId?: string; matrix?: Record<string, unknown> } = {}) {
  return buildSingleJobPayload({ workflow, file: ".forgejo/workflows/ci.yml", contexts, ...options });
}

describe("buildSingleJobPayload", () => {
  const matrixWorkflow = `on: push
jobs:
  test:
    runs-on: \${{ matrix.os }}
    strategy:
      fail-fast: false
      matrix:
        os: [omnios, debian]
        version: [1, 2]
        exclude:
          - os: debian
            version: 1
        include:
          - os: omnios
            extra: yes-please
          - os: freebsd
            version: 3
    steps:
      - run: echo \${{ matrix.version }}
`;

  it("expands the matrix as act does (exclude, include merged or added) and sorts the rows by name", () => {
    const names = [
      build(matrixWorkflow).jobName,
      build(matrixWorkflow, { matrix: { os: "debian" } }).jobName,
      build(matrixWorkflow, { matrix: { os: "freebsd" } }).jobName,
      build(matrixWorkflow, { matrix: { os: "omnios", version: 2 } }).jobName,
    ];
    expect(names).toEqual([
      "test (debian, 2)",
      "test (debian, 2)",
      "test (freebsd, 3)",
      "test (yes-please, omnios, 2)",
    ]);
    expect(() => build(matrixWorkflow, { matrix: { os: "debian", version: 1 } })).toThrow(
      TestJobNotFoundError,
    );
  });

  it("narrows strategy.matrix to the row as one-element lists and evaluates runs-on", () => {
    const payload = build(matrixWorkflow, { matrix: { os: "omnios", version: 1 } });
    expect(payload.runsOn).toEqual(["omnios"]);
    const doc = parseYaml(payload.yaml) as { jobs: Record<string, Record<string, unknown>> };
    expect(doc.jobs.test).toEqual({
      name: "test (yes-please, omnios, 1)",
      "runs-on": "omnios",
      steps: [{ run: "echo ${{ matrix.version }}" }],
      strategy: { "fail-fast": "false", matrix: { extra: ["yes-please"], os: ["omnios"], version: [1] } },
    });
  });

  it("keeps only what jobparser knows, in its order, with Go's string fields and quoting", () => {
    const payload = build(
      `name: CI
run-name: dropped
permissions: read-all
concurrency: dropped-too
on:
  push:
    branches: [main]
env:
  LEVEL: 1.10
defaults:
  run:
    shell: bash
jobs:
  first:
    runs-on: x
    steps:
      - run: one
  second:
    name: Build on \${{ vars.RUNNER }} for \${{ github.ref_name }} \${{ github.event.unknown }}
    needs: [first]
    runs-on: ["\${{ vars.RUNNER }}", linux]
    continue-on-error: true
    permissions: write-all
    timeout-minutes: 30
    env:
      N: 1
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      -
      - id: build
        name: Build
        if: \${{ success() }}
        run: |
          make
          make check
        env:
          CC: gcc
        continue-on-error: true
        timeout-minutes: 5
`,
      { jobId: "second" },
    );
    expect(payload.jobName).toBe("Build on big-box for main ${{ github.event.unknown }}");
    expect(payload.runsOn).toEqual(["big-box", "linux"]);
    expect(payload.needs).toEqual(["first"]);
    expect(payload.stepNames).toEqual(["actions/checkout@v4", "Build"]);
    expect(payload.yaml).toBe(`name: CI
"on":
    push:
        branches:
            - main
env:
    LEVEL: "1.10"
jobs:
    second:
        name: Build on big-box for main \${{ github.event.unknown }}
        runs-on:
            - big-box
            - linux
        env:
            "N": 1
        steps:
            - uses: actions/checkout@v4
              with:
                  fetch-depth: "0"
            - id: build
              if: \${{ success() }}
              name: Build
              run: |
                  make
                  make check
              env:
                  CC: gcc
              continue-on-error: true
              timeout-minutes: "5"
        timeout-minutes: "30"
defaults:
    run:
        shell: bash
`);
  });

  it("defaults to the first job and names a job without a matrix by its id", () => {
    const payload = build(
      "on: push\njobs:\n  alpha:\n    runs-on: a\n    steps:\n      - run: x\n  beta:\n    runs-on: b\n",
    );
    expect([payload.jobId, payload.jobName, payload.runsOn]).toEqual(["alpha", "alpha", ["a"]]);
    expect(payload.matrix).toEqual({});
  });

  it("refuses what Forgejo refuses, naming the file", () => {
    expect(() => build("on: push\njobs: [\n")).toThrow(TestWorkflowError);
    expect(() => build("on: push\n")).toThrow(/ci\.yml: the workflow has no `jobs` mapping/);
    expect(() => build("on: push\njobs:\n  a:\n    runs-on: x\n", { jobId: "b" })).toThrow(
      /no job "b".*available: a/,
    );
    expect(() =>
      build(
        "on: push\njobs:\n  a:\n    runs-on: x\n    strategy:\n      matrix:\n        os: [a]\n        exclude:\n          - arch: x\n",
      ),
    ).toThrow(/Matrix exclude key "arch" does not match any key/);
    expect(() =>
      build(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: x\n        continue-on-error: ${{ matrix.x }}\n",
      ),
    ).toThrow(/continue-on-error: cannot unmarshal/);
  });
});

describe("decideLogWrite (Forgejo's UpdateLog acknowledgement)", () => {
  it.each([
    { ack: 0, index: 0, rows: 0, expected: { write: false } },
    { ack: 3, index: 4, rows: 2, expected: { write: false } },
    { ack: 3, index: 0, rows: 3, expected: { write: false } },
    { ack: 3, index: 1, rows: 2, expected: { write: false } },
    { ack: 0, index: 0, rows: 2, expected: { write: true, from: 0 } },
    { ack: 3, index: 3, rows: 1, expected: { write: true, from: 0 } },
    { ack: 3, index: 1, rows: 4, expected: { write: true, from: 2 } },
  ])("ack $ack, index $index, $rows rows → $expected", ({ ack, index, rows, expected }) => {
    expect(decideLogWrite(ack, index, rows)).toEqual(expected);
  });
});
