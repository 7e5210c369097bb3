import { describe, expect, it } from "vitest";
import { evaluateStepCondition, type JobStatus } from "../src/exec/step-condition.ts";

const cases: Array<[string | undefined, JobStatus, boolean]> = [
  [undefined, "success", true],
  [undefined, "failure", false],
  ["", "success", true],
  ["success()", "success", true],
  ["success()", "failure", false],
  ["failure()", "failure", true],
  ["failure()", "success", false],
  ["always()", "failure", true],
  ["always()", "cancelled", true],
  ["cancelled()", "cancelled", true],
  ["!cancelled()", "failure", true],
  ["!cancelled()", "cancelled", false],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression, not a JS placeholder
  ["${{ failure() }}", "failure", true],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression, not a JS placeholder
  ["  ${{always()}}  ", "failure", true],
  ["success() || failure()", "failure", true],
  ["failure() && !cancelled()", "failure", true],
  ["(success() || failure()) && false", "failure", false],
  ["!(failure())", "success", true],
  // Without a status function a condition only runs while the job succeeds.
  ["true", "success", true],
  ["true", "failure", false],
  ["false", "success", false],
  ["Failure()", "failure", true],
];

describe("evaluateStepCondition", () => {
  it.each(cases)("%j when %s -> %s", (condition, status, run) => {
    expect(evaluateStepCondition(condition, status)).toEqual({ run });
  });

  it.each([
    "github.ref == 'refs/heads/main'",
    "success(",
    "success() &&",
    "success() success()",
    "contains(github.event.head_commit.message, 'x')",
    "1 == 1",
  ])("refuses %j with a message", (condition) => {
    const result = evaluateStepCondition(condition, "success");
    expect(result).toHaveProperty("error");
    expect((result as { error: string }).error).toContain(condition.trim().split(" ")[0]!.slice(0, 5));
  });
});
