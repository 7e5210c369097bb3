import { evaluateStepCondition, resolveRuntimeStep } from "@solstice/common";
import { describe, expect, it } from "vitest";
import { stepFileCommands } from "../src/exec/file-commands.ts";
import { guestLayout } from "../src/exec/guest-layout.ts";
import { JobRunState, outcomeWithFileCommandErrors } from "../src/exec/job-run-state.ts";
import { stepEnvironment } from "../src/exec/step-environment.ts";

// The executor's pure side: the step state machine (which step runs, skips and why, outcome vs
// conclusion, the job's status and reason), what finished steps leave for later ones (steps.<id>,
// GITHUB_ENV, GITHUB_PATH), and a step's environment.

describe("JobRunState", () => {
  it("records outputs, outcome and conclusion by step id; continue_on_error keeps the job succeeding", () => {
    const run = new JobRunState({});
    run.finishStep({ id: "build" }, { name: "Build", outcome: "success", outputs: { version: "1.2" } });
    expect(
      run.finishStep({ id: "lint", continue_on_error: true }, { name: "Lint", outcome: "failure" }),
    ).toEqual({ conclusion: "success", continuedOnError: true });
    run.finishStep({}, { name: "No id", outcome: "success", outputs: { ignored: "no id" } });
    expect(run.status).toBe("success");
    expect(run.reason).toBeUndefined();
    expect(run.expressionState().steps).toEqual({
      build: { outputs: { version: "1.2" }, outcome: "success", conclusion: "success" },
      lint: { outputs: {}, outcome: "failure", conclusion: "success" },
    });
    expect(
      run.decide({
        run: "echo",
        if: "steps.lint.outcome == 'failure' && steps.lint.conclusion == 'success'",
      }),
    ).toEqual({
      action: "run",
      step: { run: "echo", if: "steps.lint.outcome == 'failure' && steps.lint.conclusion == 'success'" },
    });
  });

  it("fails the job at the first failing step and names it; later failures keep that reason", () => {
    const run = new JobRunState({});
    expect(
      run.finishStep({ id: "t" }, { name: "Test", outcome: "failure", reason: "exited with 2" }),
    ).toEqual({
      conclusion: "failure",
      continuedOnError: false,
    });
    expect(run.status).toBe("failure");
    expect(run.reason).toBe('step "Test" exited with 2');
    run.finishStep({}, { name: "Cleanup", outcome: "failure" });
    expect(run.reason).toBe('step "Test" exited with 2');
    run.finishStep({ id: "s" }, { name: "Skipped", outcome: "skipped" });
    expect(run.status).toBe("failure");
    expect(run.expressionState().steps?.s).toEqual({
      outputs: {},
      outcome: "skipped",
      conclusion: "skipped",
    });
    expect(new JobRunState({}).finishStep({}, { name: "X", outcome: "failure" }).conclusion).toBe("failure");
  });

  it("after a failure runs only failure()/always() steps, and the others are skipped for their condition", () => {
    const run = new JobRunState({});
    run.finishStep({ id: "t" }, { name: "Test", outcome: "failure" });
    const decide = (condition: string | undefined) => run.decide({ run: "x", if: condition }).action;
    expect(decide(undefined)).toBe("skip");
    expect(run.decide({ run: "x" })).toEqual({ action: "skip", why: "condition-false" });
    expect(decide("true")).toBe("skip");
    expect(decide("Failure()")).toBe("run");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression
    expect(decide("  ${{ always() }} ")).toBe("run");
    expect(decide("failure() && steps.t.conclusion == 'failure'")).toBe("run");
  });

  it("after a cancel skips every step, even always(); the cancel's reason wins over a failure's", () => {
    const run = new JobRunState({});
    run.finishStep({}, { name: "Test", outcome: "failure", reason: "exited with 1" });
    run.cancel("cancelled by the user");
    run.cancel("a later reason");
    expect(run.status).toBe("cancelled");
    expect(run.reason).toBe("cancelled by the user");
    expect(run.decide({ run: "x", if: "always()" })).toEqual({ action: "skip", why: "job-cancelled" });
    expect(run.decide({ run: "x", if: "cancelled()" })).toEqual({ action: "skip", why: "job-cancelled" });
    expect(evaluateStepCondition("cancelled()", run.expressionState())).toEqual({ run: true });
    expect(evaluateStepCondition("!cancelled()", run.expressionState())).toEqual({ run: false });
  });

  it("a cancelled step cancels the job", () => {
    const run = new JobRunState({});
    run.finishStep({ id: "long" }, { name: "Long", outcome: "cancelled" });
    expect(run.status).toBe("cancelled");
    expect(run.expressionState().steps?.long?.conclusion).toBe("cancelled");
  });

  it("fails a step whose condition or runtime expression cannot be evaluated, without running it", () => {
    const run = new JobRunState({});
    const badIf = run.decide({ run: "x", if: "steps.a.outputs.b.nope(" });
    expect(badIf.action).toBe("fail");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression
    const badRun = run.decide({ run: "echo ${{ nope( }}", runtime_expressions: ["run"] });
    expect(badRun).toMatchObject({ action: "fail", error: expect.stringMatching(/^run: /) });
  });

  it("gives expressions env = the job's env with GITHUB_ENV over it", () => {
    const run = new JobRunState({ LEVEL: "job", KEEP: "k" });
    run.applyFileCommands({ env: { LEVEL: "github-env", TOOL: "t1" } });
    run.applyFileCommands({ env: { TOOL: "t2" } });
    expect(run.expressionState().contexts).toEqual({ env: { LEVEL: "github-env", KEEP: "k", TOOL: "t2" } });
    expect(run.githubEnv).toEqual({ LEVEL: "github-env", TOOL: "t2" });
    expect(run.decide({ run: "x", if: "env.TOOL == 't2'" }).action).toBe("run");
  });

  it("puts GITHUB_PATH directories before PATH, the latest first, each once", () => {
    const run = new JobRunState({});
    run.applyFileCommands({ path: ["/a", "/b"] });
    run.applyFileCommands({ path: ["/c", "/a"] });
    expect(run.pathPrefix).toEqual(["/a", "/c", "/b"]);
  });

  it("resolves runtime expressions of the step it runs: step outputs in run, GITHUB_ENV in a step env expression", () => {
    const run = new JobRunState({ LEVEL: "job" });
    run.finishStep({ id: "v" }, { name: "Version", outcome: "success", outputs: { version: "1.2" } });
    run.applyFileCommands({ env: { FROM_STEP: "x" } });
    const decision = run.decide({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Actions expressions
      run: "echo ${{ steps.v.outputs.version }} ${{ env.FROM_STEP }}",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression
      env: { V: "v${{ steps.v.outputs.version }}" },
      runtime_expressions: ["run", "env.V"],
    });
    expect(decision).toEqual({ action: "run", step: { run: "echo 1.2 x", env: { V: "v1.2" } } });
    expect(resolveRuntimeStep({ run: "plain" }, run.expressionState())).toEqual({ step: { run: "plain" } });
  });
});

describe("outcomeWithFileCommandErrors", () => {
  const success = { conclusion: "success", exitCode: 0, durationMs: 5, reason: undefined } as const;
  it("fails a step that succeeded when a file command was malformed, naming the first error", () => {
    expect(
      outcomeWithFileCommandErrors(success, ["GITHUB_OUTPUT line 2: x", "GITHUB_ENV line 1: y"]),
    ).toEqual({
      ...success,
      conclusion: "failure",
      reason: "could not process GITHUB_OUTPUT line 2: x",
    });
  });
  it("leaves a failed step's reason, and a clean step, as they are", () => {
    const failed = { conclusion: "failure", exitCode: 3, durationMs: 5, reason: "exited with 3" } as const;
    expect(outcomeWithFileCommandErrors(failed, ["GITHUB_ENV line 1: y"])).toBe(failed);
    expect(outcomeWithFileCommandErrors(success, [])).toBe(success);
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
