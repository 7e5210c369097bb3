import { describe, expect, it } from "vitest";
import {
  KdlSyntaxError,
  kdlVersionMarker,
  parseWorkflow,
  validateWorkflow,
  type Workflow,
  WorkflowSyntaxError,
} from "../src/index.ts";

// Both KDL versions: the original read its workflows with the `kdl` crate 4 (KDL 1), this port
// with KDL 2 first. The same workflow spelt in either version gives the same `Workflow`.

/** A workflow without the places of its nodes (for spellings laid out differently). */
function withoutLocations(workflow: Workflow | undefined) {
  if (workflow === undefined) return undefined;
  return {
    name: workflow.name,
    file: workflow.file,
    jobs: workflow.jobs.map(({ location: _job, steps, ...job }) => ({
      ...job,
      steps: steps.map(({ location: _step, ...step }) => step),
    })),
  };
}

/** The fields the original's parser produced. */
function originalShape(workflow: Workflow | undefined) {
  return workflow?.jobs.map((j) => ({
    id: j.id,
    runs_on: j.runs_on,
    steps: j.steps.map((s) => ({ name: s.name, run: s.run })),
  }));
}

interface CorpusEntry {
  readonly name: string;
  /** The workflow as the original's users wrote it (KDL 1). */
  readonly v1: string;
  /** The same workflow in KDL 2. */
  readonly v2: string;
  /** Whether every node starts at the same line and column in both (then locations match too). */
  readonly sameLayout: boolean;
  /** What the jobs must hold, checked on the KDL 1 reading. */
  readonly expected: ReturnType<typeof originalShape>;
  /** Further properties the KDL 1 reading must have, per job id. */
  readonly extra?: Readonly<Record<string, Record<string, unknown>>>;
}

// The original's example, verbatim from its documents (not indented: so it is there).
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

const CORPUS: readonly CorpusEntry[] = [
  {
    name: "the original's example, marked as each version",
    v1: `/- kdl-version 1\n${ORIGINAL_EXAMPLE}`,
    v2: `/- kdl-version 2\n${ORIGINAL_EXAMPLE}`,
    sameLayout: true,
    expected: [
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
  },
  {
    name: "raw strings with quotes and backslashes, kept literally",
    v1: String.raw`workflow name="raw strings" {
  job id="build" runs_on="omnios-r151046" {
    step name="Quote" run=r#"echo "hello \n world""#
    step name="Sed" run=r"sed -e 's/\\/\//g' -e 's/\t/ /' paths.txt"
    step name="Hashes" run=r##"printf '%s\n' "#"# done"##
  }
}
`,
    v2: String.raw`workflow name="raw strings" {
  job id="build" runs_on="omnios-r151046" {
    step name="Quote" run=#"echo "hello \n world""#
    step name="Sed" run=#"sed -e 's/\\/\//g' -e 's/\t/ /' paths.txt"#
    step name="Hashes" run=##"printf '%s\n' "#"# done"##
  }
}
`,
    sameLayout: true,
    expected: [
      {
        id: "build",
        runs_on: "omnios-r151046",
        steps: [
          { name: "Quote", run: String.raw`echo "hello \n world"` },
          { name: "Sed", run: String.raw`sed -e 's/\\/\//g' -e 's/\t/ /' paths.txt` },
          { name: "Hashes", run: String.raw`printf '%s\n' "#"# done` },
        ],
      },
    ],
  },
  {
    name: "bare true, false and null",
    v1: `workflow {
  job id="test" runs_on="ubuntu-24.04" debug_ssh=false timeout=3600 {
    step name="Flaky" run="make flaky-test" continue_on_error=true /-shell=null
    step name="Report" run="make report" if="failure()" continue_on_error=false
  }
}
`,
    v2: `workflow {
  job id="test" runs_on="ubuntu-24.04" debug_ssh=#false timeout=3600 {
    step name="Flaky" run="make flaky-test" continue_on_error=#true /-shell=#null
    step name="Report" run="make report" if="failure()" continue_on_error=#false
  }
}
`,
    sameLayout: true,
    expected: [
      {
        id: "test",
        runs_on: "ubuntu-24.04",
        steps: [
          { name: "Flaky", run: "make flaky-test" },
          { name: "Report", run: "make report" },
        ],
      },
    ],
    extra: { test: { debug_ssh: false, timeout_seconds: 3600 } },
  },
  {
    name: "multi-line run strings (KDL 1 strings span lines; KDL 2 dedents its triple-quoted ones)",
    v1: `workflow {
  job id="build" {
    step name="Build" run="set -e
./configure --prefix=/opt/ci
gmake -j4"
    step name="Raw" run=r#"for f in *.c; do
  echo "$f"
done"#
    step name="Escaped" run="echo one\\necho two"
  }
}
`,
    v2: `workflow {
  job id="build" {
    step name="Build" run="""
      set -e
      ./configure --prefix=/opt/ci
      gmake -j4
      """
    step name="Raw" run=#"""
      for f in *.c; do
        echo "$f"
      done
      """#
    step name="Escaped" run="echo one\\necho two"
  }
}
`,
    sameLayout: false,
    expected: [
      {
        id: "build",
        runs_on: undefined,
        steps: [
          { name: "Build", run: "set -e\n./configure --prefix=/opt/ci\ngmake -j4" },
          { name: "Raw", run: 'for f in *.c; do\n  echo "$f"\ndone' },
          { name: "Escaped", run: "echo one\necho two" },
        ],
      },
    ],
  },
  {
    name: "comments, slashdash and line continuations",
    v1: `// CI for the illumos port
/* the old layout, kept for reference:
   /* nested */ workflow { } */
/-workflow name="old" {
  job id="old" { step run="true"; }
}
workflow name="comments" { // trailing comment
  /-job id="disabled" {
    step run=r"exit 1"
  }
  job id="build" /-runs_on="omnios" {
    /-step name="Skipped" run="false"
    step name="Build" \\
         run="gmake" // the real work
    step /* inline */ name="Test" run="gmake test"
  }
}
`,
    v2: `// CI for the illumos port
/* the old layout, kept for reference:
   /* nested */ workflow { } */
/-workflow name="old" {
  job id="old" { step run="true"; }
}
workflow name="comments" { // trailing comment
  /-job id="disabled" {
    step run=#"exit 1"#
  }
  job id="build" /-runs_on="omnios" {
    /-step name="Skipped" run="false"
    step name="Build" \\
         run="gmake" // the real work
    step /* inline */ name="Test" run="gmake test"
  }
}
`,
    sameLayout: true,
    expected: [
      {
        id: "build",
        runs_on: undefined,
        steps: [
          { name: "Build", run: "gmake" },
          { name: "Test", run: "gmake test" },
        ],
      },
    ],
  },
  {
    name: "escapes: KDL 1's \\/ and the ones both versions have",
    v1: String.raw`workflow {
  job id="escapes" {
    step name="Slash" run="printf 'a\/b\tc\\d \"q\" \u{1F600} \u{e9}\n'"
    step name="Controls" run="x\by\fz\r"
  }
}
`,
    v2: String.raw`workflow {
  job id="escapes" {
    step name="Slash" run="printf 'a/b\tc\\d \"q\" \u{1F600} \u{e9}\n'"
    step name="Controls" run="x\by\fz\r"
  }
}
`,
    sameLayout: true,
    expected: [
      {
        id: "escapes",
        runs_on: undefined,
        steps: [
          { name: "Slash", run: "printf 'a/b\tc\\d \"q\" 😀 é\n'" },
          { name: "Controls", run: "x\by\fz\r" },
        ],
      },
    ],
  },
  {
    name: "identifiers: quoted and raw-string names, and a KDL 1 name with #",
    v1: `workflow {
  "job" "id"="quoted" r"runs_on"="fast" {
    env "CI"="true" r#"LANG"#="C"
    step r"run"="make" name="Make"
    /-old#step run="kept out"
  }
}
`,
    v2: `workflow {
  "job" "id"="quoted" #"runs_on"#="fast" {
    env "CI"="true" #"LANG"#="C"
    step #"run"#="make" name="Make"
    /-old_step run="kept out"
  }
}
`,
    sameLayout: true,
    expected: [{ id: "quoted", runs_on: "fast", steps: [{ name: "Make", run: "make" }] }],
    extra: { quoted: { env: { CI: "true", LANG: "C" } } },
  },
  {
    name: "every property the format has",
    v1: `workflow name="illumos builds" {
  job id="build" runs_on="omnios-bloody" timeout=3600 debug_ssh=true {
    env CI="true" LANG="C.UTF-8"
    step name="Deps" run="pkg install developer/gcc13" timeout=900
    step name="Build" run="gmake -j4" shell="bash" working_directory="src" {
      env CC="gcc" CFLAGS="-O2"
    }
    step name="Test" run=r#"gmake check && ./scripts/report.sh "$PWD""# continue_on_error=true
    step name="Logs on failure" run="cat build.log" if="failure()"
  }
}
`,
    v2: `workflow name="illumos builds" {
  job id="build" runs_on="omnios-bloody" timeout=3600 debug_ssh=#true {
    env CI="true" LANG="C.UTF-8"
    step name="Deps" run="pkg install developer/gcc13" timeout=900
    step name="Build" run="gmake -j4" shell="bash" working_directory="src" {
      env CC="gcc" CFLAGS="-O2"
    }
    step name="Test" run=#"gmake check && ./scripts/report.sh "$PWD""# continue_on_error=#true
    step name="Logs on failure" run="cat build.log" if="failure()"
  }
}
`,
    sameLayout: true,
    expected: [
      {
        id: "build",
        runs_on: "omnios-bloody",
        steps: [
          { name: "Deps", run: "pkg install developer/gcc13" },
          { name: "Build", run: "gmake -j4" },
          { name: "Test", run: 'gmake check && ./scripts/report.sh "$PWD"' },
          { name: "Logs on failure", run: "cat build.log" },
        ],
      },
    ],
    extra: { build: { timeout_seconds: 3600, debug_ssh: true, env: { CI: "true", LANG: "C.UTF-8" } } },
  },
];

describe("a KDL 1 and a KDL 2 spelling of the same workflow give the same Workflow", () => {
  it.each(CORPUS)("$name", ({ v1, v2, sameLayout, expected, extra }) => {
    const one = validateWorkflow(v1, "ci.kdl");
    const two = validateWorkflow(v2, "ci.kdl");
    expect(one.errors.map(String)).toEqual([]);
    expect(two.errors.map(String)).toEqual([]);
    expect(one.kdlVersion).toBe(1);
    expect(two.kdlVersion).toBe(2);
    if (sameLayout) expect(one.workflow).toEqual(two.workflow);
    else expect(withoutLocations(one.workflow)).toEqual(withoutLocations(two.workflow));
    expect(originalShape(one.workflow)).toEqual(expected);
    for (const [id, fields] of Object.entries(extra ?? {})) {
      expect(one.workflow?.jobsById.get(id)).toMatchObject(fields);
    }
  });

  it("keeps the places of nodes the same in both versions", () => {
    const entry = CORPUS.find((c) => c.name.startsWith("comments"))!;
    const workflow = parseWorkflow(entry.v1, "ci.kdl");
    expect(workflow.jobs[0]?.location).toEqual({ line: 11, column: 3 });
    expect(workflow.jobs[0]?.steps.map((s) => s.location)).toEqual([
      { line: 13, column: 5 },
      { line: 15, column: 5 },
    ]);
  });
});

describe("the version marker", () => {
  it.each([
    ["/- kdl-version 1\nworkflow {}", 1],
    ["/- kdl-version 2\r\nworkflow {}", 2],
    ["\uFEFF/-kdl-version  1 \nworkflow {}", 1],
    ["/- kdl-version 2", 2],
    ["/- kdl-version 3\nworkflow {}", undefined],
    ["// a comment first\n/- kdl-version 1\n", undefined],
    ["/- kdl-version 1 2\n", undefined],
    ["workflow {}", undefined],
  ] as const)("%j → %s", (source, version) => {
    expect(kdlVersionMarker(source)).toBe(version);
  });

  it("reads a file marked KDL 1 as KDL 1 even when it is valid KDL 2 too", () => {
    const marked = validateWorkflow(`/- kdl-version 1\n${ORIGINAL_EXAMPLE}`);
    const unmarked = validateWorkflow(ORIGINAL_EXAMPLE);
    expect(marked.kdlVersion).toBe(1);
    expect(unmarked.kdlVersion).toBe(2);
    expect(originalShape(marked.workflow)).toEqual(originalShape(unmarked.workflow));
  });

  it("reads an unmarked file as KDL 2 first, then as KDL 1", () => {
    const v2Only = validateWorkflow('workflow {\n  job id=a runs_on=fast { step run=#"make"# }\n}\n');
    const v1Only = validateWorkflow('workflow {\n  job id="a" runs_on="fast" { step run=r"make"; }\n}\n');
    expect([v2Only.kdlVersion, v2Only.errors]).toEqual([2, []]);
    expect([v1Only.kdlVersion, v1Only.errors]).toEqual([1, []]);
    expect(withoutLocations(v1Only.workflow)).toEqual(withoutLocations(v2Only.workflow));
  });

  it("does not fall back for a marked file, and says when the other version reads it", () => {
    const { errors, kdlVersion } = validateWorkflow(
      '/- kdl-version 2\nworkflow {\n  job id="a" {\n    step run="x" continue_on_error=true\n  }\n}\n',
      "ci.kdl",
    );
    expect(kdlVersion).toBe(2);
    expect(errors).toHaveLength(1);
    const error = errors[0] as KdlSyntaxError;
    expect(error).toBeInstanceOf(KdlSyntaxError);
    expect(error).toMatchObject({
      kdlVersion: 2,
      markedVersion: 2,
      otherVersion: undefined,
      note: undefined,
      line: 4,
      column: 36,
      detail: "`true` is not a KDL 2 value; write #true",
      hint: "the file is valid KDL 1: make its first line /- kdl-version 1",
    });
    expect(error.toString()).toBe("ci.kdl:4:36: `true` is not a KDL 2 value; write #true");
  });

  it("keeps the marker's own line out of the workflow", () => {
    const workflow = parseWorkflow(
      '/- kdl-version 1\nworkflow {\n  job id="a" {\n    step run="x"\n  }\n}\n',
    );
    expect(workflow.jobs[0]?.location).toEqual({ line: 3, column: 3 });
  });
});

interface SyntaxCase {
  readonly what: string;
  readonly source: string;
  readonly version: 1 | 2;
  readonly line: number;
  readonly column: number;
  readonly detail: string;
  /** The note line (`line:column: note: …`) when both versions were tried. */
  readonly note?: string;
  readonly hint?: string;
}

const M1 = "/- kdl-version 1\n";
const M2 = "/- kdl-version 2\n";

const SYNTAX_CASES: readonly SyntaxCase[] = [
  {
    what: "KDL 1: a raw string never closed, at its opening",
    source: `${M1}workflow {\n  job id="a" {\n    step run=r#"make\n  }\n}\n`,
    version: 1,
    line: 4,
    column: 14,
    detail: "raw string never closed: it runs on to the end of the file",
  },
  {
    what: "KDL 1: a string never closed, at its opening",
    source: `${M1}workflow {\n  job id="a" {\n    step name="x" run="make\n  }\n}\n`,
    version: 1,
    line: 4,
    column: 23,
    detail: "string never closed: it runs on to the end of the file",
  },
  {
    what: "KDL 1: the last node of a one-line block without `;`",
    source: `${M1}workflow {\n  job id="a" { step run=r"x" }\n}\n`,
    version: 1,
    line: 3,
    column: 30,
    detail: "unexpected `}`; expected the end of the node (a newline or `;`)",
    hint: 'in KDL 1 a node needs a newline or `;` before the `}` on its line: { step run="x"; }',
  },
  {
    what: "KDL 1: a bare word as a value",
    source: `${M1}workflow {\n  job id="a" runs_on=ubuntu {\n    step run="x"\n  }\n}\n`,
    version: 1,
    line: 3,
    column: 22,
    detail: "unexpected `ubuntu`; expected a value",
    hint: "the file is valid KDL 2: make its first line /- kdl-version 2",
  },
  {
    what: "KDL 1: a KDL 2 keyword",
    source: `${M1}workflow {\n\tjob id="a" debug_ssh=#true {\n\t\tstep run=r"x"\n\t}\n}\n`,
    version: 1,
    line: 3,
    column: 23,
    detail: "unexpected `#true`; expected a value",
    hint: "KDL 1 writes true, false and null without `#`",
  },
  {
    what: "KDL 1: a bare word as an argument",
    source: `${M1}workflow {\n  job id="a" {\n    step run=r"x" foo\n  }\n}\n`,
    version: 1,
    line: 4,
    column: 19,
    detail: "unexpected `foo`: a bare word is not a value in KDL 1",
    hint: 'quote it: "foo"',
  },
  {
    what: "KDL 1: an escape it does not have",
    source: `${M1}workflow {\n  job id="a" {\n    step run=r"x" name="tab\\sname"\n  }\n}\n`,
    version: 1,
    line: 4,
    column: 28,
    detail: "`\\s` is not a KDL 1 escape",
  },
  {
    what: "KDL 1: a `{` never closed",
    source: `${M1}workflow {\n  job id="a" {\n    step run=r"x"\n  }\n`,
    version: 1,
    line: 6,
    column: 1,
    detail: "unexpected end of the file: the `{` at 2:10 is never closed",
    hint: "add the missing `}`",
  },
  {
    what: "KDL 1: a comment never closed, at its opening",
    source: `${M1}workflow {\n  /* job id="a" {\n    step run=r"x"\n  }\n}\n`,
    version: 1,
    line: 3,
    column: 3,
    detail: "`/*` comment never closed",
  },
  {
    what: "KDL 1: a stray `}`",
    source: `${M1}workflow {\n  job id="a" {\n    step run=r"x"\n  }\n}\n}\n`,
    version: 1,
    line: 7,
    column: 1,
    detail: "unexpected `}`",
  },
  {
    what: "KDL 1: columns count UTF-16 units, as for KDL 2",
    source: `${M1}workflow {\n  job id="😀" x=y\n}\n`,
    version: 1,
    line: 3,
    column: 17,
    detail: "unexpected `y`; expected a value",
  },
  {
    what: "KDL 2: a KDL 1 raw string",
    source: `${M2}workflow {\n  job id="a" {\n    step run=r"x"\n  }\n}\n`,
    version: 2,
    line: 4,
    column: 15,
    detail: 'unexpected `"`; expected the end of the node (a newline or `;`)',
    hint: "the file is valid KDL 1: make its first line /- kdl-version 1",
  },
  {
    what: "KDL 2: a KDL 1 escape",
    source: `${M2}workflow {\n  job id="a" {\n    step run="a\\/b"\n  }\n}\n`,
    version: 2,
    line: 4,
    column: 16,
    detail: "unexpected character `\\`",
  },
  {
    what: "KDL 2: a string not closed on its line",
    source: `${M2}workflow {\n  job id="a" {\n    step run="make\n  }\n}\n`,
    version: 2,
    line: 4,
    column: 19,
    detail: "string not closed before the end of the line",
  },
  {
    what: "KDL 2: the first error in the file, before a string not closed further on",
    source: `${M2}workflow {\n  job id="a" debug_ssh=false {\n    step run="make\n  }\n}\n`,
    version: 2,
    line: 3,
    column: 24,
    detail: "`false` is not a KDL 2 value; write #false",
  },
  {
    what: "unmarked, invalid in both: KDL 1 gets further, and the note says where KDL 2 stopped",
    source:
      'workflow {\n  job id="a" {\n    step run="x" continue_on_error=true\n    step run=r"y" runs_on=fast\n  }\n}\n',
    version: 1,
    line: 4,
    column: 27,
    detail: "unexpected `fast`; expected a value",
    note: "3:36: note: read as KDL 1; KDL 2 was tried too and stops earlier: `true` is not a KDL 2 value; write #true",
  },
  {
    what: "unmarked, invalid in both: KDL 2 gets further",
    source: 'workflow {\n  job id=a {\n    step run="x" continue_on_error=true\n  }\n}\n',
    version: 2,
    line: 3,
    column: 36,
    detail: "`true` is not a KDL 2 value; write #true",
    note: "2:10: note: read as KDL 2; KDL 1 was tried too and stops earlier: unexpected `a`; expected a value",
  },
  {
    what: "unmarked, invalid in both at the same place: KDL 2's error",
    source: 'workflow {\n  job id="a" {\n    step run="x"\n  }\n',
    version: 2,
    line: 5,
    column: 1,
    detail: "unexpected end of the file: the `{` at 1:10 is never closed",
    note: "5:1: note: read as KDL 2; KDL 1 was tried too, with the same error",
  },
];

describe("syntax errors of both versions name the right line and column", () => {
  it.each(SYNTAX_CASES)("$what → $line:$column", (c) => {
    const { workflow, errors, kdlVersion } = validateWorkflow(c.source, "ci.kdl");
    expect(workflow).toBeUndefined();
    expect(errors).toHaveLength(1);
    const error = errors[0] as KdlSyntaxError;
    expect(error).toBeInstanceOf(KdlSyntaxError);
    expect(error).toBeInstanceOf(WorkflowSyntaxError);
    expect(kdlVersion).toBe(c.version);
    expect({
      code: error.code,
      kdlVersion: error.kdlVersion,
      line: error.line,
      column: error.column,
      detail: error.detail,
    }).toEqual({
      code: "WORKFLOW_SYNTAX",
      kdlVersion: c.version,
      line: c.line,
      column: c.column,
      detail: c.detail,
    });
    const note = c.note === undefined ? "" : `\nci.kdl:${c.note}`;
    expect(error.toString()).toBe(`ci.kdl:${c.line}:${c.column}: ${c.detail}${note}`);
    expect(error.hint).toBeTruthy();
    if (c.hint !== undefined) expect(error.hint).toBe(c.hint);
    if (c.note === undefined) {
      expect(error.otherVersion).toBeUndefined();
    } else {
      const [line, column] = c.note.split(":").map(Number);
      expect(error.otherVersion).toMatchObject({ version: c.version === 1 ? 2 : 1, line, column });
      expect(error.markedVersion).toBeUndefined();
    }
  });
});

describe("escapes above U+FFFF (which kdljs alone decodes wrong)", () => {
  it("decode to the character in both versions, and keep the places after them", () => {
    const source = 'workflow {\n  job id="\\u{1F600}" {\n    step name="\\u{1F600}😀" run=1\n  }\n}\n';
    for (const marker of [M1, M2]) {
      const { errors } = validateWorkflow(marker + source, "ci.kdl");
      expect(errors.map(String)).toEqual(["ci.kdl:4:29: `run` must be a string, not a number (1)"]);
    }
    const workflow = parseWorkflow(source.replace("run=1", 'run="x"'));
    expect(workflow.jobs[0]?.id).toBe("😀");
    expect(workflow.jobs[0]?.steps[0]?.name).toBe("😀😀");
  });
});

describe("workflow errors in a KDL 1 file", () => {
  it("are at the right places and spell keywords as KDL 1 does", () => {
    const { errors, kdlVersion } = validateWorkflow(
      `${M1}workflow {
  job id=true r"runs-on"="x" {
    step name="😀" run=1 shell=null timeout="60" continue_on_error="true"
  }
}
`,
      "ci.kdl",
    );
    expect(kdlVersion).toBe(1);
    expect(errors.map(String)).toEqual([
      "ci.kdl:3:7: `id` must be a string, not true",
      "ci.kdl:3:15: unknown property `runs-on` on `job`; did you mean `runs_on`?",
      "ci.kdl:4:20: `run` must be a string, not a number (1)",
      "ci.kdl:4:26: `shell` must be a string, not null",
      'ci.kdl:4:37: `timeout` must be a whole number of seconds, not a string ("60")',
      'ci.kdl:4:50: `continue_on_error` must be true or false, not a string ("true")',
    ]);
    expect(errors.at(-1)?.hint).toBe("drop the quotes: continue_on_error=true");
  });

  it("report duplicates as for KDL 2: a repeated property keeps its last value, a repeated job id is an error", () => {
    const source = `${M1}workflow {
  job id="a" runs_on="one" runs_on="two" {
    step run="x" run="y"
  }
  job id="a" {
    step run="z"
  }
}
`;
    const one = validateWorkflow(source, "ci.kdl");
    const two = validateWorkflow(source.replace(M1, M2), "ci.kdl");
    expect(one.errors.map(String)).toEqual(['ci.kdl:6:7: duplicate job id "a" (first defined at 3:7)']);
    expect(two.errors.map(String)).toEqual(one.errors.map(String));
    const unique = source.replace('job id="a" {\n    step run="z"', 'job id="b" {\n    step run="z"');
    const workflow = parseWorkflow(unique);
    expect(workflow.jobs[0]).toMatchObject({ runs_on: "two", steps: [{ run: "y" }] });
  });
});
