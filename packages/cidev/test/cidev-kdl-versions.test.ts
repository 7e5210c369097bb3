import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runCidev, tempFiles } from "./cli-support.ts";

// `cidev validate` and `cidev show` on workflows written for the original (KDL 1), beside KDL 2
// ones: each is read as its version, and the commands say which.

// In the original's style: a raw string with quotes and `\n` kept as written, bare booleans, a
// multi-line string, comments and slashdash.
const V1 = String.raw`// written for the original Solstice CI
workflow name="Legacy" {
  job id="build" runs_on="omnios-r151046" debug_ssh=false {
    step name="Greet" run=r#"echo "hello \n world""#
    step name="Build" run="set -e
gmake -j4" continue_on_error=true
    /-step name="Off" run="false"
  }
}
`;

const V2 = `workflow name="Current" {
  job id="build" runs_on=fast {
    step name="Greet" run=#"echo "hello""#
  }
}
`;

// Invalid in both versions: KDL 2 stops at the bare `true`, KDL 1 further on, at the bare word.
const BOTH_INVALID = `workflow {
  job id="a" {
    step run="x" continue_on_error=true
    step run=r"y" shell=bash
  }
}
`;

let dir: Awaited<ReturnType<typeof tempFiles>>;
beforeAll(async () => {
  dir = await tempFiles({
    "legacy.kdl": V1,
    "current.kdl": V2,
    "marked.kdl": `/- kdl-version 2\n${V1}`,
    "both.kdl": BOTH_INVALID,
  });
});
afterAll(() => dir?.remove());

const cidev = (...args: string[]) => runCidev(args, { cwd: dir.path });

describe("cidev reads KDL 1 and KDL 2 workflows", { timeout: 60_000 }, () => {
  test("validate: a KDL 1 workflow is valid; --kdl-version says which version each file was read as", async () => {
    const plain = await cidev("validate", "legacy.kdl", "current.kdl");
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe(
      "OK: legacy.kdl: KDL workflow 'Legacy' with 1 job\nOK: current.kdl: KDL workflow 'Current' with 1 job\n",
    );
    const versions = await cidev("validate", "--kdl-version", "legacy.kdl", "current.kdl");
    expect(versions.code).toBe(0);
    expect(versions.stdout).toBe(
      "OK: legacy.kdl: KDL workflow 'Legacy' with 1 job, read as KDL 1\n" +
        "OK: current.kdl: KDL workflow 'Current' with 1 job, read as KDL 2\n",
    );
  });

  test("validate --json: kdl_version per file", async () => {
    const r = await cidev("validate", "--json", "legacy.kdl", "current.kdl");
    expect(r.code).toBe(0);
    const reports = JSON.parse(r.stdout) as { file: string; kdl_version: number; valid: boolean }[];
    expect(reports.map(({ file, kdl_version, valid }) => ({ file, kdl_version, valid }))).toEqual([
      { file: "legacy.kdl", kdl_version: 1, valid: true },
      { file: "current.kdl", kdl_version: 2, valid: true },
    ]);
  });

  test("validate: a file invalid in both versions gets the likelier one's error and a note on the other", async () => {
    const r = await cidev("validate", "--kdl-version", "both.kdl");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      "both.kdl:4:25: unexpected `bash`; expected a value\n" +
        "both.kdl:3:36: note: read as KDL 1; KDL 2 was tried too and stops earlier: `true` is not a KDL 2 value; write #true\n",
    );
    expect(r.stderr).toBe("both.kdl: 1 error (read as KDL 1)\n");
    const json = await cidev("validate", "--json", "both.kdl");
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({
        kdl_version: 1,
        valid: false,
        errors: [
          {
            line: 4,
            column: 25,
            code: "WORKFLOW_SYNTAX",
            message: "unexpected `bash`; expected a value",
            note: {
              line: 3,
              column: 36,
              message:
                "read as KDL 1; KDL 2 was tried too and stops earlier: `true` is not a KDL 2 value; write #true",
            },
          },
        ],
      }),
    ]);
  });

  test("validate and show: a file marked KDL 2 is read as KDL 2 only, even when it is KDL 1", async () => {
    const r = await cidev("validate", "--kdl-version", "marked.kdl");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("marked.kdl:4:53: `false` is not a KDL 2 value; write #false\n");
    expect(r.stderr).toBe("marked.kdl: 1 error (read as KDL 2)\n");
    const show = await cidev("show", "marked.kdl");
    expect(show.code).toBe(1);
    expect(show.stderr).toContain("marked.kdl:4:53: `false` is not a KDL 2 value; write #false");
  });

  test("show: a KDL 1 job as written, raw string kept literally, with the version it was read as", async () => {
    const r = await cidev("show", "legacy.kdl");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        "Job: build",
        "runs_on: omnios-r151046",
        "kdl_version: 1",
        "- Step 1/2: Greet",
        String.raw`  run: echo "hello \n world"`,
        "- Step 2/2: Build",
        "  run: set -e",
        "       gmake -j4",
        "  continue_on_error: true",
        "",
      ].join("\n"),
    );
    const current = await cidev("show", "current.kdl");
    expect(current.stdout).toContain("kdl_version: 2\n");
  });
});
