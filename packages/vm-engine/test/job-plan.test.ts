import { describe, expect, it } from "vitest";
import { JobDefinitionError } from "../src/errors.ts";
import {
  JOB_SCRIPT_STEP,
  planFromJobScript,
  planFromRequest,
  planFromWorkflowKdl,
  renderFallbackProbe,
} from "../src/exec/job-plan.ts";

const workflow = `
workflow name="ci" {
  job id="lint" {
    step name="Lint" run="make lint"
  }
  job id="build" runs_on="ubuntu-24.04" {
    step name="Build" run="make"
    step run="make test"
  }
}
`;

describe("job plans", () => {
  it("takes the request's steps as they are", () => {
    const steps = [{ run: "true" }];
    expect(planFromRequest(steps)).toEqual({ steps, source: "request", env: {}, timeoutSeconds: undefined });
  });

  it("runs .solstice/job.sh by its shebang when executable, else by sh", () => {
    expect(planFromJobScript().steps).toEqual([JOB_SCRIPT_STEP]);
    expect(JOB_SCRIPT_STEP.run).toContain("exec ./.solstice/job.sh");
    expect(JOB_SCRIPT_STEP.run).toContain("exec /bin/sh ./.solstice/job.sh");
  });

  it("takes the KDL job named by workflow_job_id", () => {
    const plan = planFromWorkflowKdl(workflow, "build");
    expect(plan.source).toBe(".solstice/workflow.kdl#build");
    expect(plan.steps.map((s) => s.run)).toEqual(["make", "make test"]);
    expect(plan.steps[0]?.name).toBe("Build");
  });

  it("takes the first KDL job without a workflow_job_id", () => {
    expect(planFromWorkflowKdl(workflow, null).steps.map((s) => s.run)).toEqual(["make lint"]);
  });

  it("names the jobs the file has when the wanted one is missing", () => {
    expect(() => planFromWorkflowKdl(workflow, "deploy")).toThrow(JobDefinitionError);
    try {
      planFromWorkflowKdl(workflow, "deploy");
    } catch (error) {
      expect((error as JobDefinitionError).message).toBe('.solstice/workflow.kdl has no job "deploy"');
      expect((error as JobDefinitionError).hint).toBe("jobs in the file: lint, build");
    }
  });

  it("reports a broken workflow with its file, line and column", () => {
    const error = (() => {
      try {
        planFromWorkflowKdl('workflow {\n  job id="a" {\n    step name="x"\n  }\n}\n', null);
      } catch (e) {
        return e as JobDefinitionError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(JobDefinitionError);
    expect(error?.file).toBe(".solstice/workflow.kdl");
    expect(error?.message).toMatch(/^\.solstice\/workflow\.kdl:3:\d+: /);
  });

  it("probes for job.sh before workflow.kdl", () => {
    const probe = renderFallbackProbe("/root/work");
    expect(probe.indexOf("job.sh")).toBeLessThan(probe.indexOf("workflow.kdl"));
    expect(probe.startsWith("cd '/root/work' && ")).toBe(true);
  });
});
