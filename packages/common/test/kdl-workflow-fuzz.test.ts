import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseWorkflow, validateWorkflow, WorkflowError, WorkflowSyntaxError } from "../src/index.ts";
import type { KdlNode, NodePositions } from "../src/workflow/kdl-document.ts";
import { parseKdlV1 } from "../src/workflow/kdl-v1-parse.ts";
import { parseKdlV2 } from "../src/workflow/kdl-v2-parse.ts";
import { SourceLines } from "../src/workflow/source-lines.ts";

// No text crashes the workflow reader or holds it up: whatever the input, KDL 1 or 2 or neither,
// `validateWorkflow` returns a workflow or errors that point inside the text, in bounded time.

/** Generous for two shared cores; a real workflow reads in about a millisecond. */
const TIME_LIMIT_MS = 2_000;

// The pieces KDL texts are made of, both versions' and neither's.
const FRAGMENTS = [
  "workflow",
  "job",
  "step",
  "env",
  "id",
  "run",
  "name",
  "runs_on",
  "timeout",
  " ",
  "\t",
  "\n",
  "\r\n",
  "\r",
  "\f",
  "\u0085",
  "\u2028",
  "\uFEFF",
  "{",
  "}",
  "=",
  ";",
  "\\",
  '"',
  'r"',
  'r#"',
  '"#',
  "#",
  '#"',
  '"""',
  "(",
  ")",
  "(t)",
  "/-",
  "//",
  "/*",
  "*/",
  "true",
  "#true",
  "false",
  "null",
  "#null",
  "#inf",
  "1",
  "-2.5e3",
  "0x1f",
  '"x"',
  '"\\n"',
  '"\\/"',
  '"\\s"',
  '"\\u{1F600}"',
  "\\u{",
  "😀",
  "é",
  "/- kdl-version 1\n",
  "/- kdl-version 2\n",
] as const;

const SEEDS = [
  'workflow name="CI" {\n  job id="build" runs_on="fast" {\n    step name="Build" run="make"\n  }\n}\n',
  'workflow {\n  job id="a" debug_ssh=true {\n    step run=r#"echo "hi \\n""# continue_on_error=false\n  }\n}\n',
  'workflow {\n  job id=a timeout=60 {\n    env CI="true"\n    step run="""\n      make\n      """ if="failure()"\n  }\n}\n',
  '/- kdl-version 1\nworkflow { job id="x" { step run="y"; }; }\n',
] as const;

const fragmentText = fc
  .array(fc.constantFrom(...FRAGMENTS), { maxLength: 80 })
  .map((parts) => parts.join(""));

// A valid workflow with a few fragments spliced in, removed or replaced: near misses.
const mutatedWorkflow = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.array(fc.tuple(fc.nat(), fc.nat({ max: 6 }), fc.constantFrom(...FRAGMENTS, "")), {
      minLength: 1,
      maxLength: 4,
    }),
  )
  .map(([seed, edits]) =>
    edits.reduce((text, [at, remove, insert]) => {
      const i = at % (text.length + 1);
      return text.slice(0, i) + insert + text.slice(i + remove);
    }, seed as string),
  );

const anyText = fc.string({ unit: "binary", maxLength: 300 });

/** Reads `source` and checks what came back; throws (failing the property) when wrong. */
function readsSafely(source: string): void {
  const started = performance.now();
  const result = validateWorkflow(source, "fuzz.kdl");
  expect(performance.now() - started).toBeLessThan(TIME_LIMIT_MS);
  expect([1, 2]).toContain(result.kdlVersion);
  if (result.workflow !== undefined) {
    expect(result.errors).toEqual([]);
    return;
  }
  expect(result.errors.length).toBeGreaterThan(0);
  const lineLengths = source.split(/\r\n|\r|\n/).map((line) => line.length);
  for (const error of result.errors) {
    expect(error).toBeInstanceOf(WorkflowError);
    expect(error.file).toBe("fuzz.kdl");
    expect(error.line).toBeGreaterThanOrEqual(1);
    expect(error.line).toBeLessThanOrEqual(lineLengths.length);
    expect(error.column).toBeGreaterThanOrEqual(1);
    expect(error.column).toBeLessThanOrEqual(lineLengths[error.line - 1]! + 1);
    expect(error.detail.length).toBeGreaterThan(0);
  }
}

describe("no input crashes the reader or holds it up", { timeout: 120_000 }, () => {
  it("texts made of KDL fragments", () => {
    fc.assert(fc.property(fragmentText, readsSafely), { numRuns: 400 });
  });

  it("valid workflows with a few edits", () => {
    fc.assert(fc.property(mutatedWorkflow, readsSafely), { numRuns: 400 });
  });

  it("any text at all", () => {
    fc.assert(fc.property(anyText, readsSafely), { numRuns: 300 });
  });

  it("inputs that once crashed a parser", () => {
    // @bgotink/kdl's KDL 1 tokenizer throws a TypeError on a string ending in `\` at the end.
    // kdljs once put a KDL 1 keyword after `=` and a newline past the end of its line.
    for (const text of ['"#\\', 'workflow { job id="a\\', "=\r\nfalse", "a run= \ntrue }"]) readsSafely(text);
    expect(validateWorkflow('workflow { job id="a\\', "w.kdl").errors.map(String)).toEqual([
      "w.kdl:1:21: unexpected character `\\`\n" +
        "w.kdl:1:19: note: read as KDL 2; KDL 1 was tried too and stops earlier: string never closed: it runs on to the end of the file",
    ]);
  });

  it("nesting deeper than the parsers' stack: an error, and the reader still works after it", () => {
    for (const deep of ["a {\n".repeat(20_000), "a {".repeat(20_000), "/*".repeat(20_000)]) {
      const { errors } = validateWorkflow(deep, "deep.kdl");
      expect(errors[0]).toBeInstanceOf(WorkflowSyntaxError);
      readsSafely(deep);
    }
    expect(parseWorkflow('workflow { job id="a" { step run="make" } }').jobs[0]?.id).toBe("a");
  });

  it("long texts in linear time", () => {
    const longRun = `workflow { job id="a" { step run="${"x".repeat(200_000)}" } }`;
    const longWord = `workflow ${"w".repeat(200_000)}`;
    const manySteps = `workflow {\n  job id="a" {\n${'    step run=r"make"\n'.repeat(5_000)}  }\n}\n`;
    for (const text of [longRun, longWord, manySteps]) readsSafely(text);
    expect(parseWorkflow(manySteps).jobs[0]?.steps).toHaveLength(5_000);
  });
});

/** A node tree as plain data (kdljs's nodes carry type annotations; the KDL 1 ones do not). */
function plainNodes(nodes: readonly KdlNode[]): unknown[] {
  return nodes.map((n) => ({
    name: n.name,
    values: n.values,
    properties: { ...n.properties },
    children: plainNodes(n.children),
  }));
}

function plainPositions(positions: readonly NodePositions[]): unknown[] {
  return positions.map((p) => ({
    location: p.location,
    values: p.values,
    properties: Object.fromEntries(p.properties),
    children: plainPositions(p.children),
  }));
}

describe("a text both versions accept", { timeout: 120_000 }, () => {
  // The KDL spec's promise, which the fallback relies on; and the positions of both readers agree.
  it("means the same in both, at the same places", () => {
    let both = 0;
    fc.assert(
      fc.property(fc.oneof(fragmentText, mutatedWorkflow), (source) => {
        const one = parseKdlV1(source);
        const two = parseKdlV2(source);
        if (!one.ok || !two.ok) return;
        both += 1;
        expect(plainNodes(one.document.nodes)).toEqual(plainNodes(two.document.nodes));
        expect(plainPositions(one.document.positions)).toEqual(plainPositions(two.document.positions));
      }),
      { numRuns: 600 },
    );
    // The generators do make such texts (the seeds and light edits of them).
    expect(both).toBeGreaterThan(20);
  });
});

describe("SourceLines", () => {
  it("counts lines as kdljs does (LF, CRLF, CR) and columns in UTF-16 units", () => {
    const lines = new SourceLines("ab\r\n😀c\rd\ne");
    expect(lines.locationOf(0)).toEqual({ line: 1, column: 1 });
    expect(lines.locationOf(4)).toEqual({ line: 2, column: 1 });
    expect(lines.locationOf(6)).toEqual({ line: 2, column: 3 });
    expect(lines.locationOf(8)).toEqual({ line: 3, column: 1 });
    expect(lines.end()).toEqual({ line: 4, column: 2 });
    expect(lines.locationOf(99)).toEqual(lines.end());
  });
});
