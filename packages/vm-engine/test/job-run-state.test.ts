import { evaluateStepCondition, resolveRuntimeStep } from "@solstice/common";
import { describe, expect, it } from "vitest";
import { stepFileCommands } from "../src/exec/file-commands.ts";
import { guestLayout } from "../src/exec/guest-layout.ts";
import { JobRunState } from "../src/exec/job-run-state.ts";
import { stepEnvironment } from "../src/exec/step-environment.ts";

// The executor's pure side: what finished steps leave for later ones (status, steps.<id>,
// GITHUB_ENV, GITHUB_PATH), the conditions common evaluates over it, and a step's environment.

describe("JobRunState", () => {
  it("records outputs, outcome and conclusion by step id; continue_on_error keeps the job succeeding", () => {
    const run = new JobRunState({});
    run.finishStep({ id: "build" }, "success", { version: "1.2" });
    run.finishStep({ id: "lint", continue_on_error: true }, "failure");
    run.finishStep({}, "success", { ignored: "no id" });
    expect(run.status).toBe("success");
    expect(run.expressionState().steps).toEqual({
      build: { outputs: { version: "1.2" }, outcome: "success", conclusion: "success" },
      lint: { outputs: {}, outcome: "failure", conclusion: "success" },
    });
    expect(
      evaluateStepCondition("steps.lint.outcome == 'failure' && steps.lint.conclusion == 'success'", {
        ...run.expressionState(),
      }),
    ).toEqual({ run: true });
  });

  it("fails the job at a failing step, then only failure()/always() steps run; a cancel wins", () => {
    const run = new JobRunState({});
    run.finishStep({ id: "t" }, "failure");
    expect(run.status).toBe("failure");
    const decide = (condition: string | undefined) => evaluateStepCondition(condition, run.expressionState());
    expect(decide(undefined)).toEqual({ run: false });
    expect(decide("true")).toEqual({ run: false });
    expect(decide("Failure()")).toEqual({ run: true });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression
    expect(decide("  ${{ always() }} ")).toEqual({ run: true });
    expect(decide("failure() && steps.t.conclusion == 'failure'")).toEqual({ run: true });
    run.finishStep({ id: "s" }, "skipped");
    expect(run.status).toBe("failure");
    expect(run.expressionState().steps?.s).toEqual({
      outputs: {},
      outcome: "skipped",
      conclusion: "skipped",
    });
    run.cancel();
    expect(decide("!cancelled()")).toEqual({ run: false });
    expect(decide("cancelled()")).toEqual({ run: true });
  });

  it("gives expressions env = the job's env with GITHUB_ENV over it", () => {
    const run = new JobRunState({ LEVEL: "job", KEEP: "k" });
    run.applyFileCommands({ env: { LEVEL: "github-env", TOOL: "t1" } });
    run.applyFileCommands({ env: { TOOL: "t2" } });
    expect(run.expressionState().contexts).toEqual({ env: { LEVEL: "github-env", KEEP: "k", TOOL: "t2" } });
    expect(run.githubEnv).toEqual({ LEVEL: "github-env", TOOL: "t2" });
    expect(evaluateStepCondition("env.TOOL == 't2'", run.expressionState())).toEqual({ run: true });
  });

  it("puts GITHUB_PATH directories before PATH, the latest first, each once", () => {
    const run = new JobRunState({});
    run.applyFileCommands({ path: ["/a", "/b"] });
    run.applyFileCommands({ path: ["/c", "/a"] });
    expect(run.pathPrefix).toEqual(["/a", "/c", "/b"]);
  });

  it("feeds resolveRuntimeStep: step outputs in run, GITHUB_ENV in a step env expression", () => {
    const run = new JobRunState({ LEVEL: "job" });
    run.finishStep({ id: "v" }, "success", { version: "1.2" });
    run.applyFileCommands({ env: { FROM_STEP: "x" } });
    const resolved = resolveRuntimeStep(
      {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Actions expressions
        run: "echo ${{ steps.v.outputs.version }} ${{ env.FROM_STEP }}",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression
        env: { V: "v${{ steps.v.outputs.version }}" },
        runtime_expressions: ["run", "env.V"],
      },
      run.expressionState(),
    );
    expect(resolved).toEqual({ step: { run: "echo 1.2 x", env: { V: "v1.2" } } });
  });
});

describe("stepEnvironment", () => {
  const layout = guestLayout("/root");
  const request = { request_id: "r-1", commit_sha: "abc123", env: { LEVEL: "job", JOB_ONLY: "j" } };

  it("layers job env < GITHUB_ENV < step env, and sets the workspace, RUNNER_TEMP and file commands", () => {
    const fileCommands = stepFileCommands(layout, 2);
    const env = stepEnvironment({
      request,
      layout,
      planEnv: { LEVEL: "plan", PLAN_ONLY: "p" },
      step: { env: { LEVEL: "step", GITHUB_OUTPUT: "/tmp/not-yours" } },
      index: 2,
      githubEnv: { LEVEL: "github-env", FROM_ENV: "e", JOB_ONLY: "overridden" },
      fileCommands,
    });
    expect(env).toMatchObject({
      CI: "true",
      GITHUB_WORKSPACE: "/root/work",
      RUNNER_TEMP: "/root/.solstice-run/tmp",
      SOLSTICE_STEP: "2",
      LEVEL: "step",
      JOB_ONLY: "overridden",
      FROM_ENV: "e",
      PLAN_ONLY: "p",
      GITHUB_OUTPUT: "/root/.solstice-run/step-2.output",
      GITHUB_ENV: "/root/.solstice-run/step-2.env",
      GITHUB_PATH: "/root/.solstice-run/step-2.path",
      GITHUB_STEP_SUMMARY: "/root/.solstice-run/step-2.summary",
      GITHUB_STATE: "/root/.solstice-run/step-2.state",
    });
  });

  it("without GITHUB_ENV or a step env, the request's env wins over the workflow job's", () => {
    const env = stepEnvironment({
      request,
      layout,
      planEnv: { LEVEL: "plan" },
      step: {},
      index: 0,
      fileCommands: stepFileCommands(layout, 0),
    });
    expect(env.LEVEL).toBe("job");
  });
});
