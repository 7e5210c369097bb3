import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JobRequest, newJobRequest } from "@solstice/common";
import { EventLog } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GuestShell } from "../src/exec/guest-shell.ts";
import { JobEventEmitter } from "../src/exec/job-events.ts";
import { type ExecuteJobOptions, executeJob, type JobExecution } from "../src/exec/job-executor.ts";
import { LocalGuestShell } from "../src/local/local-guest-shell.ts";
import { createLocalRepo } from "./local-fixtures.ts";

// executeJob on the `local` backend: the guest is a directory on the host, its shell /bin/sh.
// The cases of the VM tests (checkout, steps in order, conditions, outputs, GITHUB_ENV/PATH, the
// job.sh and workflow.kdl fallbacks, timeouts, cancel) without booting anything.

let dir: string;
let homes = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "solstice-executor-"));
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** A fresh guest home and its shell. */
async function guest(): Promise<{ home: string; shell: LocalGuestShell }> {
  homes += 1;
  const home = join(dir, `home-${homes}`);
  await mkdir(home);
  return { home, shell: new LocalGuestShell(home) };
}

const NO_REPO = { repo_url: "file:///nonexistent", commit_sha: "0123456789abcdef0123456789abcdef01234567" };

function request(fields: Partial<JobRequest>): JobRequest {
  return newJobRequest({ source: "manual", ...NO_REPO, workspace_checkout: false, ...fields });
}

/** Runs the job in `shell`; events go to the returned log. */
async function execute(
  shell: GuestShell,
  req: JobRequest,
  options: Partial<ExecuteJobOptions> & { onEvent?: (log: EventLog) => void } = {},
): Promise<{ execution: JobExecution; log: EventLog }> {
  const log = new EventLog();
  const events = new JobEventEmitter(req.request_id, (event) => {
    log.sink(event);
    options.onEvent?.(log);
  });
  const execution = await executeJob(shell, req, { killGraceMs: 500, ...options, events });
  await events.flush();
  await shell.close();
  return { execution, log };
}

describe("executeJob on the local backend", () => {
  it("checks out the commit, runs the steps in order and stops at the failing one", async () => {
    const repo = await createLocalRepo(join(dir, "repo-happy"), {
      "README.md": "hello from the repository\n",
    });
    const { home, shell } = await guest();
    const { execution, log } = await execute(
      shell,
      request({
        repo_url: repo.url,
        commit_sha: repo.sha,
        workspace_checkout: true,
        env: { WHO: "job" },
        steps: [
          {
            name: "Greet",
            run: 'echo "hello $WHO"\ncat README.md\necho "to stderr" >&2\ngit rev-parse HEAD\npwd',
            env: { WHO: "world" },
          },
          { name: "Fail", run: "echo about to fail\nexit 3" },
          { name: "Never", run: "echo should not run" },
        ],
      }),
    );
    expect(execution).toMatchObject({
      conclusion: "failure",
      reason: 'step "Fail" exited with 3',
      source: "request",
    });
    expect(execution.steps.map((s) => [s.name, s.conclusion, s.exitCode])).toEqual([
      ["Greet", "success", 0],
      ["Fail", "failure", 3],
      ["Never", "skipped", null],
    ]);
    expect(log.of("step_started").map((e) => [e.step, e.name])).toEqual([
      [0, "Greet"],
      [1, "Fail"],
    ]);
    expect(log.of("step_finished").map((e) => [e.step, e.conclusion, e.exit_code])).toEqual([
      [0, "success", 0],
      [1, "failure", 3],
      [2, "skipped", null],
    ]);
    const step0 = log.lines(0);
    expect(step0.filter((l) => l.startsWith("stdout:"))).toEqual([
      "stdout: hello world",
      "stdout: hello from the repository",
      `stdout: ${repo.sha}`,
      `stdout: ${home}/work`,
    ]);
    expect(step0.filter((l) => l.startsWith("stderr:"))).toEqual(["stderr: to stderr"]);
    expect(log.lines(1)).toEqual(["stdout: about to fail"]);
    expect(log.lines(2)).toEqual([]);
    expect(log.lines(null)).toContain(`system: solstice: HEAD is now at ${repo.sha}`);
    expect(log.events.map((e) => e.seq)).toEqual(log.events.map((_, i) => i));
  });

  it("carries outputs, GITHUB_ENV and GITHUB_PATH to later steps, fails a step on a malformed file command, masks ::add-mask:: values", async () => {
    const { shell } = await guest();
    const { execution, log } = await execute(
      shell,
      request({
        env: { LEVEL: "job" },
        steps: [
          {
            id: "v",
            name: "Outputs",
            run: [
              'ls -A "$GITHUB_WORKSPACE" | wc -l',
              '[ -d "$RUNNER_TEMP" ] && [ -w "$RUNNER_TEMP" ] && echo "temp ok"',
              'echo "version=1.2" >> "$GITHUB_OUTPUT"',
              'printf "notes<<EOF\\nfirst\\nsecond\\nEOF\\n" >> "$GITHUB_OUTPUT"',
              'echo "FROM_ENV=set-by-step-0" >> "$GITHUB_ENV"',
              'echo "LEVEL=from-github-env" >> "$GITHUB_ENV"',
              'mkdir -p "$HOME/tools" && printf "#!/bin/sh\\necho tool-ran\\n" > "$HOME/tools/mytool" && chmod +x "$HOME/tools/mytool"',
              'echo "$HOME/tools" >> "$GITHUB_PATH"',
              'echo "::add-mask::hidden-value-7"',
            ].join("\n"),
          },
          {
            name: "Use them",
            // biome-ignore lint/suspicious/noTemplateCurlyInString: Actions expressions, rendered by the engine
            run: 'echo "version ${{ steps.v.outputs.version }} / $VIA_ENV / $FROM_ENV / $LEVEL"\nmytool\necho "secret hidden-value-7"',
            // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression
            env: { VIA_ENV: "${{ steps.v.outputs.notes }}", LEVEL: "step" },
            runtime_expressions: ["run", "env.VIA_ENV"],
          },
          { name: "Runs", if: "steps.v.outputs.version == '1.2'", run: "echo condition-true" },
          { name: "Skipped", if: "steps.v.outcome != 'success'", run: "echo condition-false" },
          {
            id: "m",
            name: "Malformed",
            run: 'echo "ok=yes" >> "$GITHUB_OUTPUT"\necho "no equals sign" >> "$GITHUB_OUTPUT"',
            continue_on_error: true,
          },
          {
            name: "Continued",
            if: "steps.m.outcome == 'failure' && steps.m.conclusion == 'success' && steps.m.outputs.ok == 'yes'",
            run: "echo continued",
          },
          // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression
          { name: "Bad", run: "echo ${{ steps.v.outputs.version.nope( }}", runtime_expressions: ["run"] },
        ],
      }),
    );
    expect(log.lines(0)).toEqual(["stdout: 0", "stdout: temp ok", "stdout: ::add-mask::***"]);
    expect(log.lines(1)).toEqual([
      "stdout: version 1.2 / first",
      "stdout: second / set-by-step-0 / step",
      "stdout: tool-ran",
      "stdout: secret ***",
    ]);
    expect(log.lines(2)).toEqual(["stdout: condition-true"]);
    expect(log.of("step_finished").map((e) => [e.step, e.conclusion])).toEqual([
      [0, "success"],
      [1, "success"],
      [2, "success"],
      [3, "skipped"],
      [4, "failure"],
      [5, "success"],
      [6, "failure"],
    ]);
    expect(log.of("step_finished")[0]?.outputs).toEqual({ version: "1.2", notes: "first\nsecond" });
    expect(log.of("step_finished")[4]?.outputs).toEqual({ ok: "yes" });
    expect(log.lines(4)).toEqual([
      'system: GITHUB_OUTPUT line 2: expected NAME=value or NAME<<DELIMITER, got "no equals sign"',
      'system: the step failed (could not process GITHUB_OUTPUT line 2: expected NAME=value or NAME<<DELIMITER, got "no equals sign"); continue_on_error lets the job go on',
    ]);
    expect(log.lines(5)).toEqual(["stdout: continued"]);
    expect(log.lines(6).join("\n")).toMatch(/^system: run: /);
    expect(execution.conclusion).toBe("failure");
    expect(execution.reason).toMatch(/^step "Bad" run: /);
    expect(log.lines(null)).toContain(
      "system: solstice: the workspace starts empty (the job checks the repository out itself)",
    );
  });

  it("runs a failing continue-on-error step's successors, and an always() step after a failure", async () => {
    const { shell } = await guest();
    const { execution, log } = await execute(
      shell,
      request({
        steps: [
          { id: "lint", name: "Lint", run: "echo lint; exit 1", continue_on_error: true },
          { name: "Build", run: "echo build" },
          { name: "Test", run: "exit 4" },
          { name: "Deploy", run: "echo deploy" },
          { name: "On failure", if: "failure()", run: "echo the job failed" },
          { name: "Cleanup", if: "always()", run: "echo cleanup" },
          { name: "Only on success", if: "success()", run: "echo never" },
        ],
      }),
    );
    expect(log.of("step_finished").map((e) => [e.step, e.conclusion, e.exit_code])).toEqual([
      [0, "failure", 1],
      [1, "success", 0],
      [2, "failure", 4],
      [3, "skipped", null],
      [4, "success", 0],
      [5, "success", 0],
      [6, "skipped", null],
    ]);
    expect(log.lines(0)).toEqual([
      "stdout: lint",
      "system: the step failed (exited with 1); continue_on_error lets the job go on",
    ]);
    expect(log.lines(4)).toEqual(["stdout: the job failed"]);
    expect(log.lines(5)).toEqual(["stdout: cleanup"]);
    expect(execution).toMatchObject({ conclusion: "failure", reason: 'step "Test" exited with 4' });
  });

  it("kills a step at its timeout (its whole process group), fails it, and runs an always() step after it", async () => {
    const { shell } = await guest();
    const started = Date.now();
    const { execution, log } = await execute(
      shell,
      request({
        steps: [
          { name: "Slow", run: "echo going to sleep; sleep 30; echo woke up", timeout_seconds: 1 },
          { name: "Skipped", run: "echo skipped" },
          {
            name: "Check",
            if: "always()",
            // Killed processes may linger as zombies until init reaps them: give it a moment.
            run: 'pid=$(cat "$HOME/.solstice-run/step-0.pid"); for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 -"$pid" 2>/dev/null || break; sleep 0.2; done; if kill -0 -"$pid" 2>/dev/null; then echo sleeper alive; else echo sleeper gone; fi',
          },
        ],
      }),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(execution).toMatchObject({
      conclusion: "failure",
      reason: 'step "Slow" timed out after 1 s and was killed',
    });
    expect(log.of("step_finished").map((e) => [e.step, e.conclusion, e.exit_code])).toEqual([
      [0, "failure", null],
      [1, "skipped", null],
      [2, "success", 0],
    ]);
    const slow = log.lines(0);
    expect(slow[0]).toBe("stdout: going to sleep");
    expect(slow.at(-1)).toBe("system: timed out after 1 s and was killed");
    expect(slow).not.toContain("stdout: woke up");
    expect(log.lines(2)).toEqual(["stdout: sleeper gone"]);
  });

  it("cancels mid-step through the signal: the step is killed, nothing after it runs (not even always())", async () => {
    const { shell } = await guest();
    const controller = new AbortController();
    const { execution, log } = await execute(
      shell,
      request({
        steps: [
          { name: "Long", run: "echo started\nsleep 600" },
          { name: "After", if: "always()", run: "echo after" },
        ],
      }),
      {
        signal: controller.signal,
        onEvent: (seen) => {
          if (seen.lines(0).includes("stdout: started")) controller.abort(new Error("cancelled by the test"));
        },
      },
    );
    expect(execution).toMatchObject({ conclusion: "cancelled", reason: "cancelled by the test" });
    // The steps after the cancel get one line between them, not an event each.
    expect(log.of("step_finished").map((e) => [e.step, e.conclusion])).toEqual([[0, "cancelled"]]);
    expect(log.lines(null)).toContain("system: 1 step was not run (step 2): cancelled by the test");
    // The shell may also say "Terminated" on stderr when its sleep is killed.
    expect(log.lines(0).filter((line) => !line.startsWith("stderr:"))).toEqual([
      "stdout: started",
      "system: cancelled: the step was killed",
    ]);
  });

  it("runs nothing when cancelled before it starts", async () => {
    const { shell } = await guest();
    const { execution, log } = await execute(shell, request({ steps: [{ name: "Never", run: "echo no" }] }), {
      signal: AbortSignal.abort(new Error("cancelled early")),
    });
    expect(execution).toEqual({
      conclusion: "cancelled",
      reason: "cancelled early",
      steps: [],
      source: "request",
    });
    expect(log.of("step_started")).toEqual([]);
  });

  it("falls back to .solstice/job.sh, and to the job of .solstice/workflow.kdl named by workflow_job_id", async () => {
    const script = await createLocalRepo(join(dir, "repo-script"), {
      ".solstice/job.sh": '+x #!/bin/sh\necho "job.sh ran at $SOLSTICE_COMMIT_SHA"\n',
    });
    const kdl = await createLocalRepo(join(dir, "repo-kdl"), {
      ".solstice/workflow.kdl": `workflow {
  job id="other" {
    step run="echo wrong job"
  }
  job id="build" {
    env GREETING="from kdl"
    step name="Greet" run="echo \\"$GREETING\\""
  }
}
`,
    });
    const first = await guest();
    const fromScript = await execute(
      first.shell,
      request({ repo_url: script.url, commit_sha: script.sha, workspace_checkout: true, steps: undefined }),
    );
    expect(fromScript.execution).toMatchObject({ conclusion: "success", source: ".solstice/job.sh" });
    expect(fromScript.log.of("step_started").map((e) => e.name)).toEqual([".solstice/job.sh"]);
    expect(fromScript.log.lines(0)).toEqual([`stdout: job.sh ran at ${script.sha}`]);

    const second = await guest();
    const fromKdl = await execute(
      second.shell,
      request({
        repo_url: kdl.url,
        commit_sha: kdl.sha,
        workspace_checkout: true,
        workflow_job_id: "build",
        steps: undefined,
      }),
    );
    expect(fromKdl.execution).toMatchObject({
      conclusion: "success",
      source: ".solstice/workflow.kdl#build",
    });
    expect(fromKdl.log.lines(0)).toEqual(["stdout: from kdl"]);
    expect(fromKdl.log.lines(null)).toContain("system: Running the steps of .solstice/workflow.kdl#build");
  });

  it("fails the checkout of a commit the repository does not have", async () => {
    const repo = await createLocalRepo(join(dir, "repo-other"), { "a.txt": "a\n" });
    const { shell } = await guest();
    await expect(
      execute(
        shell,
        request({
          repo_url: repo.url,
          commit_sha: "0123456789abcdef0123456789abcdef01234567",
          workspace_checkout: true,
          steps: [{ run: "echo never" }],
        }),
      ),
    ).rejects.toMatchObject({ code: "ORCH_WORKSPACE_CHECKOUT" });
  });

  it("renders and uploads each step's files once: ahead when the request gives them, again only when they changed", async () => {
    const { shell } = await guest();
    const uploads: string[] = [];
    const counting: GuestShell = {
      exec: (command, options) => shell.exec(command, options),
      run: (command, options) => shell.run(command, options),
      upload: (path, content, mode) => {
        uploads.push(path.slice(path.lastIndexOf("/") + 1));
        return shell.upload(path, content, mode);
      },
      get closed() {
        return shell.closed;
      },
      close: () => shell.close(),
    };
    const { execution } = await execute(
      counting,
      request({
        steps: [
          { name: "Plain", run: "echo one" },
          { name: "Sets env", run: 'echo "X=1" >> "$GITHUB_ENV"' },
          // Its launcher now exports X: the file uploaded ahead is stale and replaced.
          { name: "Sees env", run: 'echo "$X"' },
        ],
      }),
    );
    expect(execution.conclusion).toBe("success");
    expect(uploads.sort()).toEqual(
      [
        "step-0.launch.sh",
        "step-0.sh",
        "step-1.launch.sh",
        "step-1.sh",
        "step-2.launch.sh",
        "step-2.launch.sh",
        "step-2.sh",
        "step-2.sh",
      ].sort(),
    );
  });
});
