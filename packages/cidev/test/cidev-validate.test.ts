import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runCidev, tempFiles } from "./cli-support.ts";

// `cidev validate` on broken files, KDL and Actions YAML: every error, each at its line and
// column, exit 1. The CLI runs as a child process, as users run it.

const CASES: readonly {
  name: string;
  file: string;
  text: string;
  errors: string[];
  /** The `note:` line after an error, by the error's index. */
  notes?: Record<number, string>;
}[] = [
  {
    name: "KDL: several errors in one file, all reported",
    file: "several.kdl",
    text: `workflow name="broken" {
  job id="build" runs_on="fast" {
    step name="no command"
    step name="number" run=1
  }
  job id="build" {
    step run="make" timeout=0
  }
}
`,
    errors: [
      "3:5: `step` without `run`",
      "4:24: `run` must be a string, not a number (1)",
      '6:7: duplicate job id "build" (first defined at 2:7)',
      "7:21: `timeout` must be a whole number of seconds above 0, not 0",
    ],
  },
  {
    name: "KDL: a syntax error",
    file: "syntax.kdl",
    text: 'workflow {\n  job id="a" {\n    step run="echo \n',
    errors: ["3:20: string not closed before the end of the line"],
    // Tried as KDL 1 too, whose strings may span lines.
    notes: {
      0: "3:14: note: read as KDL 2; KDL 1 was tried too and stops earlier: string never closed: it runs on to the end of the file",
    },
  },
  {
    name: "KDL: an unknown property, with a suggestion",
    file: "unknown.kdl",
    text: 'workflow {\n  job id="a" runs-on="fast" {\n    step run="make"\n  }\n}\n',
    errors: ["2:14: unknown property `runs-on` on `job`; did you mean `runs_on`?"],
  },
  {
    name: "Actions: an unknown step key",
    file: ".github/workflows/unknown-key.yml",
    text: "on: push\njobs:\n  build:\n    runs-on: fast\n    steps:\n      - run: make\n        stepz: 1\n",
    errors: ["7:9: Unexpected value 'stepz'"],
  },
  {
    name: "Actions: two bad expressions",
    file: ".forgejo/workflows/expressions.yml",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Actions expressions, not a template literal
    text: "on: push\njobs:\n  build:\n    runs-on: fast\n    steps:\n      - run: echo ${{ nope.x }}\n      - run: echo ${{ github.sha == }}\n",
    errors: ["6:19: Unrecognized named-value: 'nope'", "7:19: Unexpected end of expression: '=='"],
  },
  {
    name: "Actions: invalid YAML (tab indentation)",
    file: "tabs.yaml",
    text: "on: push\njobs:\n  build:\n\truns-on: fast\n",
    errors: ["4:1: Tabs are not allowed as indentation"],
  },
];

let dir: Awaited<ReturnType<typeof tempFiles>>;
beforeAll(async () => {
  dir = await tempFiles(Object.fromEntries(CASES.map((c) => [c.file, c.text])));
});
afterAll(() => dir?.remove());

describe("cidev validate reports every error with its line and column", { timeout: 60_000 }, () => {
  test.each(CASES)("$name", async ({ file, errors, notes }) => {
    const { code, stdout, stderr } = await runCidev(["validate", file], { cwd: dir.path });
    const lines = errors.flatMap((e, i) => [e, ...(notes?.[i] === undefined ? [] : [notes[i]])]);
    expect(stdout.trim().split("\n")).toEqual(lines.map((e) => `${file}:${e}`));
    expect(stderr).toContain(`${file}: ${errors.length} error`);
    expect(code).toBe(1);
  });

  test("several files at once; --json reports each", async () => {
    const { code, stdout } = await runCidev(["validate", "--json", "unknown.kdl", "tabs.yaml"], {
      cwd: dir.path,
    });
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual([
      expect.objectContaining({
        file: "unknown.kdl",
        format: "kdl",
        kdl_version: 2,
        valid: false,
        errors: [expect.objectContaining({ line: 2, column: 14, code: "WORKFLOW_UNKNOWN" })],
      }),
      expect.objectContaining({
        file: "tabs.yaml",
        format: "actions",
        kdl_version: null,
        valid: false,
        errors: [expect.objectContaining({ line: 4, column: 1, code: "ACTIONS_WORKFLOW_SYNTAX" })],
      }),
    ]);
  });
});
