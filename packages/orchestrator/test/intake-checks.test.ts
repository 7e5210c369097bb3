import { type JobRequest, newJobRequest } from "@solstice/common";
import { describe, expect, test } from "vitest";
import { JobRequestRefusedError } from "../src/errors.ts";
import { COMMIT_ID, formatIssues } from "../src/service/intake-format-checks.ts";
import { DEFAULT_INTAKE_LIMITS, limitIssues, MAX_LISTED_ISSUES } from "../src/service/intake-limits.ts";

// The checks JobIntake makes before it records or boots anything (pure; the flow is in
// service-intake.test.ts).

function request(fields: Partial<JobRequest> = {}): JobRequest {
  return newJobRequest({
    source: "manual",
    repo_url: "https://example.org/r.git",
    commit_sha: "0123456789abcdef0123456789abcdef01234567",
    ...fields,
  });
}

const limits = { maxSteps: 2, maxStepScriptBytes: 10, maxEnvEntries: 1, maxRequestBytes: 1024 };

describe("limitIssues", () => {
  test("nothing to say about a request within the limits, nor one without steps or env", () => {
    expect(limitIssues(request({ steps: [{ run: "make" }], env: { A: "1" } }), limits)).toEqual([]);
    expect(limitIssues(request(), limits)).toEqual([]);
    expect(limitIssues(request({ steps: [{ run: "x".repeat(10) }, { run: "y" }] }), limits)).toEqual([]);
  });

  test("each bound names its field and the limit; bytes are UTF-8 bytes", () => {
    const issues = limitIssues(
      request({
        env: { A: "1", B: "2" },
        steps: [{ run: "ok" }, { run: "ééééé é" }, { run: "z", env: { C: "", D: "" } }],
      }),
      limits,
    );
    expect(issues).toEqual([
      { path: "steps", message: "3 steps, more than the 2 a job may have" },
      { path: "env", message: "2 variables, more than the 1 an env may have" },
      { path: "steps[1].run", message: "13 bytes, more than the 10 a step's script may have" },
      { path: "steps[2].env", message: "2 variables, more than the 1 an env may have" },
    ]);
  });

  test("100,000 steps over the script limit make one short reason, not 100,000", () => {
    const steps = Array.from({ length: 100_000 }, () => ({ run: "x".repeat(11) }));
    const issues = limitIssues(request({ steps }), limits);
    expect(issues).toHaveLength(MAX_LISTED_ISSUES + 1);
    expect(issues[0]).toEqual({ path: "steps", message: "100000 steps, more than the 2 a job may have" });
    expect(issues.at(-1)).toEqual({ path: "", message: "and 99996 more like these" });
    const error = new JobRequestRefusedError("r-1", issues);
    expect(error.message.length).toBeLessThan(500);
    expect(error.code).toBe("ORCH_JOB_REQUEST_REFUSED");
  });

  test("the defaults leave room for real jobs", () => {
    expect(DEFAULT_INTAKE_LIMITS).toEqual({
      maxSteps: 1_000,
      maxStepScriptBytes: 262_144,
      maxEnvEntries: 1_000,
      maxRequestBytes: 1_048_576,
    });
  });
});

describe("formatIssues", () => {
  test.each([
    ["0123456789abcdef0123456789abcdef01234567", true],
    ["0123456789ABCDEF0123456789abcdef01234567", true],
    ["a".repeat(64), true],
    ["3f78685", true],
    ["abcd", true],
    ["abc", false],
    ["a".repeat(65), false],
    ["main", false],
    ["refs/heads/main", false],
    ["0123456789abcdef0123456789abcdef0123456g", false],
    [" 3f78685", false],
  ])("commit id %j: %s", (sha, ok) => {
    expect(COMMIT_ID.test(sha)).toBe(ok);
    expect(formatIssues(request({ commit_sha: sha })).map((i) => i.path)).toEqual(ok ? [] : ["commit_sha"]);
  });

  test("a commit id is described, never quoted (a misplaced value may be a secret)", () => {
    const [issue] = formatIssues(request({ commit_sha: "hunter2-token" }));
    expect(issue?.message).toBe(
      "expected a commit id: 4 to 64 hexadecimal digits (a full SHA-1 or SHA-256 id, or an abbreviation), got 13 characters with some that are not hexadecimal",
    );
    expect(issue?.message).not.toContain("hunter2");
  });

  test("variable names must be shell names, in the job's env and each step's", () => {
    const issues = formatIssues(
      request({
        env: { GOOD_1: "", _ok: "", "BAD-NAME": "" },
        steps: [
          { run: "true", env: { "2X": "" } },
          { run: "true", env: { "a b": "", PATH: "" } },
        ],
      }),
    );
    expect(issues.map((i) => `${i.path}: ${i.message.split(" is ")[0]}`)).toEqual([
      'env: "BAD-NAME"',
      'steps[0].env: "2X"',
      'steps[1].env: "a b"',
    ]);
  });
});
