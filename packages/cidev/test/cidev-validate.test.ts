import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { REPO_ROOT, runCidev, tempFiles } from "./cli-support.ts";

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

describe("cidev validate: warnings, the image map's labels, --strict", { timeout: 300_000 }, () => {
  const MAP = `default_label: small-guest
aliases:
  fast: small-guest
images:
  small-guest:
    source: file:///nonexistent/guest.qcow2
    local_path: /nonexistent/guest.qcow2
`;
  const YAML = `on: push
jobs:
  test:
    runs-on: \${{ matrix.os }}
    strategy:
      matrix:
        os: [fast, nowhere]
    steps:
      - run: echo hi
      - uses: actions/setup-node@v4
`;

  test("a label the map does not serve and an unsupported uses: warn (exit 0); --strict makes them errors (exit 1)", async () => {
    const files = await tempFiles({ "map.yaml": MAP, "ci.yml": YAML });
    try {
      const plain = await runCidev(["validate", "--image-map", "map.yaml", "ci.yml"], {
        cwd: files.path,
        timeoutMs: 90_000,
      });
      expect(plain.stdout).toBe("OK: ci.yml: Actions workflow with 1 job\n");
      expect(plain.stderr).toContain(
        'ci.yml:4:14: warning: runs-on "nowhere" is not served by the image map map.yaml (it serves: small-guest, fast); cidev run would refuse it',
      );
      expect(plain.stderr).not.toContain('runs-on "fast"');
      expect(plain.stderr).toContain(
        "ci.yml:10:9: warning: step 2 (Run actions/setup-node@v4): uses: actions/setup-node@v4 is not supported",
      );
      expect(plain.code).toBe(0);

      const strict = await runCidev(["validate", "--strict", "--json", "ci.yml"], {
        cwd: files.path,
        env: { ORCH_CONFIG: "map.yaml" },
        timeoutMs: 90_000,
      });
      const [report] = JSON.parse(strict.stdout) as {
        valid: boolean;
        warnings: unknown[];
        errors: { line: number; code: string; message: string }[];
      }[];
      expect(report!.valid).toBe(false);
      expect(report!.warnings).toEqual([]);
      expect(report!.errors.map((e) => [e.line, e.code])).toEqual([
        [4, "WORKFLOW_STRICT"],
        [10, "WORKFLOW_STRICT"],
      ]);
      expect(report!.errors[0]!.message).toMatch(/not served by the image map map.yaml .*\(--strict\)$/);
      expect(strict.code).toBe(1);

      const missing = await runCidev(["validate", "--image-map", "none.yaml", "ci.yml"], {
        cwd: files.path,
        timeoutMs: 90_000,
      });
      expect(missing.stderr).toContain("none.yaml");
      expect(missing.code).toBe(2);
    } finally {
      await files.remove();
    }
  });
});

describe("the examples", { timeout: 300_000 }, () => {
  test("every example workflow passes validate --strict from outside the checkout: labels the shipped map serves, nothing unsupported", async () => {
    const examples = [
      "examples/workflow.kdl",
      "examples/hello",
      "examples/illumos-project/.solstice/workflow.kdl",
      "examples/illumos-project/.github/workflows/ci.yml",
      "examples/illumos-project/.forgejo/workflows/ci.yml",
    ];
    // From "/" with no ORCH_CONFIG: the map is found as cidev run finds it, not by the directory.
    const r = await runCidev(["validate", "--strict", ...examples.map((e) => `${REPO_ROOT}/${e}`)], {
      cwd: "/",
      env: { ORCH_CONFIG: "" },
      timeoutMs: 120_000,
    });
    expect(r.stderr).toBe("");
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(examples.length);
    expect(lines.filter((line) => !line.startsWith("OK: "))).toEqual([]);
    expect(r.code).toBe(0);
  });
});
