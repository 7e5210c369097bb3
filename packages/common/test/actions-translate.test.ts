// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Actions expressions are written `${{ … }}` in plain strings.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  type ActionsContexts,
  ActionsContextsSchema,
  ActionsExpressionError,
  ActionsJobNotFoundError,
  ActionsUnsupportedJobError,
  defaultActionsEnv,
  formatTranslationWarning,
  HASH_FILES_REFUSED,
  JobRequestSchema,
  type JobStep,
  newJobRequest,
  parseActionsWorkflow,
  type TranslatedJob,
  translateJob,
} from "../src/index.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/actions/", import.meta.url));
const SHA = "0123456789abcdef0123456789abcdef01234567";
const GITHUB = {
  sha: SHA,
  ref: "refs/heads/main",
  repository: "me/app",
  server_url: "https://forge.example",
  token: "tok-123",
  event: { head_commit: { message: "fix ${{ secrets.API_KEY }}" } },
};

async function translate(
  fixture: string,
  options: { jobId?: string; contexts?: ActionsContexts; runsOn?: string } = {},
): Promise<TranslatedJob> {
  const workflow = await parseActionsWorkflow(readFileSync(`${FIXTURES}${fixture}`, "utf8"), fixture);
  return translateJob({
    workflow,
    ...(options.jobId === undefined ? {} : { jobId: options.jobId }),
    ...(options.runsOn === undefined ? {} : { runsOn: options.runsOn }),
    contexts: { github: GITHUB, ...options.contexts },
  });
}

function failing(message: string, extra: Partial<JobStep> = {}): JobStep {
  return {
    run: `printf '%s\\n' '${`solstice: ${message}`.replaceAll("'", `'\\''`)}' >&2\nexit 1\n`,
    ...extra,
  };
}

const UNSUPPORTED = (action: string) =>
  `uses: ${action} is not supported: Solstice CI runs only \`run\` steps and actions/checkout (the job runs in a VM, without the Actions runtime)`;

describe("translateJob: steps of each fixture", () => {
  it.each<[string, { jobId?: string; contexts?: ActionsContexts }, JobStep[]]>([
    ["basic.yml", {}, [{ run: "uname -a" }, { name: "Build", run: "make\nmake check\n" }]],
    [
      "env-defaults.yml",
      { jobId: "job-defaults" },
      [
        {
          name: "inherits",
          run: 'echo "$LEVEL"',
          shell: "bash --noprofile --norc -eo pipefail {0}",
          working_directory: "from-job",
        },
        {
          name: "overrides",
          run: 'echo "step $FROM_JOB"',
          env: { LEVEL: "step", FROM_JOB: "j+job" },
          shell: "sh -e {0}",
          working_directory: "own",
        },
      ],
    ],
    [
      "env-defaults.yml",
      { jobId: "workflow-defaults" },
      [{ run: "pwd", shell: "bash --noprofile --norc -eo pipefail {0}", working_directory: "from-workflow" }],
    ],
    [
      "shells.yml",
      {},
      [
        { run: "echo default" },
        { run: "echo sh", shell: "sh -e {0}" },
        { run: "echo bash", shell: "bash --noprofile --norc -eo pipefail {0}" },
        { run: 'print("python")', shell: "python {0}" },
        { run: "echo ksh", shell: "ksh -e {0}" },
        failing(
          'shell "pwsh" is not available in Solstice CI guests: use sh, bash, python, or a command with {0} for the script (e.g. "ksh -e {0}")',
        ),
        failing(
          'unknown shell "zsh": use sh, bash, python, or a command with {0} for the script (e.g. "ksh -e {0}")',
        ),
      ],
    ],
    [
      "conditions.yml",
      { contexts: { matrix: { os: "omnios" } } },
      [
        { id: "first", run: "echo one" },
        { run: "echo on main" },
        { run: "echo never here", if: "false" },
        { run: "echo after a failure", if: "failure()" },
        { run: "echo always", if: "always()" },
        { run: "echo unless cancelled", if: "!cancelled()" },
        { run: "echo failure on main", if: "failure()" },
        { run: "echo reads a step", if: "success() && (steps.first.outputs.ok == 'yes')" },
        { run: "echo reads a GITHUB_ENV variable", if: "success() && (env.FROM_STEP == 'x')" },
        // A step's `if` does not see the step's own env, as in Actions.
        { run: "echo reads its own variable", env: { KNOWN: "k" }, if: "success() && (env.KNOWN == 'k')" },
        { run: "echo functions" },
      ],
    ],
    [
      "uses.yml",
      {},
      [
        failing(UNSUPPORTED("docker/setup-buildx-action@v3"), { name: "Run docker/setup-buildx-action@v3" }),
        failing(UNSUPPORTED("actions/cache@v4"), { name: "Cache", continue_on_error: true }),
        failing(UNSUPPORTED("./.github/actions/local"), {
          name: "Run ./.github/actions/local",
          if: "always()",
        }),
        { run: "echo still here" },
      ],
    ],
    [
      "timeouts.yml",
      { jobId: "timeouts", contexts: { matrix: { minutes: 7, experimental: true } } },
      [
        { run: "sleep 1", timeout_seconds: 120 },
        { run: "sleep 1", timeout_seconds: 420 },
        { run: "sleep 1", timeout_seconds: 30 },
        { run: "sleep 1", continue_on_error: true },
      ],
    ],
    [
      "forgejo-payload.yml",
      {},
      [
        expect.objectContaining({ name: "Run actions/checkout@v4" }) as JobStep,
        { run: 'echo "$GREETING from omnios with go 1.22"' },
      ],
    ],
  ])("%s %j", async (fixture, options, steps) => {
    const { request } = await translate(fixture, options);
    expect(request.steps).toEqual(steps);
  });

  it("keeps one step per workflow step, in order (the forge counts steps by index)", async () => {
    for (const [fixture, jobId] of [
      ["uses.yml", "uses"],
      ["checkout.yml", "checkout"],
      ["expressions.yml", "expr"],
      ["shells.yml", "shells"],
    ] as const) {
      const workflow = await parseActionsWorkflow(readFileSync(`${FIXTURES}${fixture}`, "utf8"), fixture);
      const { request } = translateJob({
        workflow,
        jobId,
        contexts: { github: GITHUB, matrix: { os: "x" } },
      });
      expect(request.steps).toHaveLength(workflow.jobs.find((j) => j.id === jobId)!.steps.length);
    }
  });
});

describe("translateJob: env", () => {
  it("merges workflow, job and step env in that order, over the runner's defaults", async () => {
    const workflow = await parseActionsWorkflow(readFileSync(`${FIXTURES}env-defaults.yml`, "utf8"), "e.yml");
    const { request } = translateJob({
      workflow,
      jobId: "job-defaults",
      contexts: { github: GITHUB },
      runnerEnv: { FORGEJO_ACTIONS: "true", LEVEL: "runner" },
    });
    expect(request.env).toEqual({
      ...defaultActionsEnv({ github: { ...GITHUB, job: "job-defaults" } }),
      FORGEJO_ACTIONS: "true",
      LEVEL: "job",
      WORKFLOW_ONLY: "w",
      SHA,
      JOB_ONLY: "j",
    });
    // The step's own env is applied over the job's by the executor; its values saw the job's.
    expect(request.steps[1]!.env).toEqual({ LEVEL: "step", FROM_JOB: "j+job" });
    expect(request.steps[1]!.run).toBe('echo "step $FROM_JOB"');
  });

  it("derives the GITHUB_* variables from the github context", () => {
    expect(
      defaultActionsEnv({
        github: {
          sha: SHA,
          ref: "refs/tags/v1",
          ref_name: "v1",
          run_number: 12,
          repository: "a/b",
          token: "t",
        },
        runner: { os: "illumos", arch: "X64" },
      }),
    ).toEqual({
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_SHA: SHA,
      GITHUB_REF: "refs/tags/v1",
      GITHUB_REF_NAME: "v1",
      GITHUB_RUN_NUMBER: "12",
      GITHUB_REPOSITORY: "a/b",
      RUNNER_OS: "illumos",
      RUNNER_ARCH: "X64",
    });
  });
});

describe("translateJob: expressions", () => {
  it("evaluates what the contexts decide now and carries what the run decides", async () => {
    const { request, warnings } = await translate("expressions.yml", {
      contexts: { matrix: { os: "omnios", version: 3 } },
    });
    const steps = request.steps;
    expect(steps[0]).toEqual({ name: "Test on omnios", run: "echo omnios-3 x+y" });
    expect(steps[1]).toEqual({ run: `echo '{\n  "os": "omnios",\n  "version": 3\n}'` });
    expect(steps[3]).toEqual({
      name: "uses ${{ steps.version.outputs.version }}",
      run: 'echo "known omnios"\necho "later ${{ steps.version.outputs.version }}"\n',
      env: { VERSION: "v${{ steps.version.outputs.version }}", OS: "omnios" },
      runtime_expressions: ["env.VERSION", "name", "run"],
    });
    // Known text in a carried template is escaped: a commit message cannot inject an expression.
    expect(steps[6]).toEqual({
      run: "echo \"fix ${{ '${{' }} secrets.API_KEY }} ${{ steps.version.outputs.version }}\"",
      runtime_expressions: ["run"],
    });
    expect(warnings.map((w) => w.step)).toEqual([4, 5]);
  });

  it("refuses hashFiles clearly: the step fails and says why", async () => {
    const { request, warnings } = await translate("expressions.yml", { contexts: { matrix: { os: "x" } } });
    expect(request.steps[4]).toEqual(failing(`run: ${HASH_FILES_REFUSED}`));
    expect(HASH_FILES_REFUSED).toMatch(/^hashFiles\(\) is not supported by Solstice CI/);
    expect(formatTranslationWarning(warnings[0]!)).toBe(
      `expressions.yml:18:9: warning: step 5: run: ${HASH_FILES_REFUSED}`,
    );
  });

  it("fails a step whose expression fails, as Actions does", async () => {
    const { request } = await translate("expressions.yml", { contexts: { matrix: { os: "x" } } });
    expect(request.steps[5]!.run).toContain("solstice: run: Error parsing JSON when evaluating fromJson");
    expect(request.steps[5]!.run).toMatch(/exit 1\n$/);
  });

  it("uses the matrix given, or the first combination with a warning", async () => {
    const given = await translate("matrix.yml", { contexts: { matrix: { os: "netbsd", version: 3 } } });
    expect(given.request.steps[0]!.run).toBe("echo netbsd 3  ");
    expect(given.name).toBe("test (netbsd, 3)");
    expect(given.request.runs_on).toBe("netbsd");
    expect(given.warnings).toEqual([]);

    const first = await translate("matrix.yml");
    expect(first.matrix).toEqual({ os: "omnios", version: 1, extra: "yes" });
    expect(first.request.steps[0]!.run).toBe("echo omnios 1 yes ");
    expect(first.warnings.map((w) => w.message)).toEqual([
      'the matrix has 4 combinations; this is the first ({"os":"omnios","version":1,"extra":"yes"}): pass contexts.matrix to choose another',
    ]);
  });

  it("reads a Forgejo payload's one-value matrix", async () => {
    const t = await translate("forgejo-payload.yml");
    expect(t.matrix).toEqual({ go: "1.22", os: "omnios" });
    expect(t.name).toBe("job1 (omnios, 1.22)");
    expect(t.warnings).toEqual([]);
  });
});

describe("translateJob: the job", () => {
  it("takes the timeout, runs-on and labels, and the owner", async () => {
    const workflow = await parseActionsWorkflow(readFileSync(`${FIXTURES}timeouts.yml`, "utf8"), "t.yml");
    const owner = { kind: "forgejo" as const, instance: "https://forge.example#runner-1", task_id: "42" };
    const t = translateJob({
      workflow,
      jobId: "timeouts",
      contexts: { github: GITHUB, matrix: { minutes: 1, experimental: false } },
      owner,
      workflowPath: ".forgejo/workflows/t.yml",
    });
    expect(t.request.timeout_seconds).toBe(5400);
    expect(t.request.owner).toEqual(owner);
    expect(t.request.workflow_path).toBe(".forgejo/workflows/t.yml");
    expect(t.request.workflow_job_id).toBe("timeouts");
    expect(t.request.runs_on).toBe("omnios");
    expect(t.request.steps[3]!.continue_on_error).toBe(false);

    const none = translateJob({ workflow, jobId: "no-timeout", contexts: { github: GITHUB } });
    expect(none.request.timeout_seconds).toBeUndefined();
    expect(none.request.owner).toBeUndefined();
  });

  it("evaluates the job's if over needs, and keeps outputs as templates", async () => {
    const needs = { first: { result: "success", outputs: { go: "yes" } } };
    const t = await translate("job-conditions.yml", { jobId: "on-main", contexts: { needs } });
    expect(t.shouldRun).toBe(true);
    expect(t.request.labels).toEqual(["self-hosted", "omnios", "x64"]);
    expect(t.request.runs_on).toBe("omnios");
    expect(t.outputs).toEqual({
      result: "${{ steps.r.outputs.value }}",
      fixed: SHA,
      literal: "a ${{ '${{' }} b",
    });
    expect(t.warnings.map((w) => `${w.line}:${w.column} ${w.message}`)).toEqual([
      "21:16 container: is ignored: the job runs in a VM of its runs-on image",
      "23:7 services: are ignored: Solstice CI runs no service containers",
    ]);

    const not = await translate("job-conditions.yml", {
      jobId: "on-main",
      contexts: { needs: { first: { result: "success", outputs: { go: "no" } } } },
    });
    expect(not.shouldRun).toBe(false);
    const cleanup = await translate("job-conditions.yml", { jobId: "on-failure", contexts: { needs } });
    expect(cleanup.shouldRun).toBe(false);
    const afterFailure = await translate("job-conditions.yml", {
      jobId: "on-failure",
      contexts: { needs: { first: { result: "failure" } } },
    });
    expect(afterFailure.shouldRun).toBe(true);
    // A skipped need is not a success (so success() is false) nor a failure.
    const skipped = { first: { result: "skipped", outputs: { go: "yes" } } };
    expect(
      (await translate("job-conditions.yml", { jobId: "on-main", contexts: { needs: skipped } })).shouldRun,
    ).toBe(false);
    expect(
      (await translate("job-conditions.yml", { jobId: "on-failure", contexts: { needs: skipped } }))
        .shouldRun,
    ).toBe(false);
  });

  it("lets the runner choose the label", async () => {
    const t = await translate("job-conditions.yml", { jobId: "on-main", runsOn: "omnios-r151050" });
    expect(t.request.runs_on).toBe("omnios-r151050");
  });

  it("refuses what it cannot run, naming the file and place", async () => {
    await expect(translate("job-conditions.yml", { jobId: "reusable" })).rejects.toThrow(
      ActionsUnsupportedJobError,
    );
    await expect(translate("job-conditions.yml", { jobId: "reusable" })).rejects.toThrow(
      'job-conditions.yml:28:3: job "reusable" calls the reusable workflow org/repo/.github/workflows/called.yml@main, which Solstice CI cannot run',
    );
    const missing = await translate("basic.yml", { jobId: "nope" }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ActionsJobNotFoundError);
    expect((missing as ActionsJobNotFoundError).message).toBe(
      'basic.yml: no job "nope" in the workflow (jobs: build)',
    );
    await expect(translate("env-defaults.yml")).rejects.toThrow(
      "env-defaults.yml: the workflow has 2 jobs (job-defaults, workflow-defaults): say which one to translate",
    );
  });

  it("reports a job-level expression that fails with its place", async () => {
    const text = "on: push\njobs:\n  a:\n    runs-on: ${{ fromJSON('nope') }}\n    steps:\n      - run: x\n";
    const workflow = await parseActionsWorkflow(text, "w.yml");
    const error = (() => {
      try {
        translateJob({ workflow });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ActionsExpressionError);
    expect(String(error)).toMatch(
      /^w\.yml:4:14: cannot evaluate \$\{\{ fromJSON\('nope'\) \}\}: Error parsing JSON/,
    );
  });

  it("produces fields a JobRequest accepts", async () => {
    const { request } = await translate("expressions.yml", { contexts: { matrix: { os: "x" } } });
    const job = newJobRequest({
      source: "forgejo",
      repo_url: "https://forge.example/me/app",
      commit_sha: SHA,
      ...request,
    });
    expect(JobRequestSchema.parse(JSON.parse(JSON.stringify(job)))).toEqual(job);
    expect(job.steps?.[3]?.runtime_expressions).toEqual(["env.VERSION", "name", "run"]);
    // The additive field accepts only the templated fields.
    const bad = JobRequestSchema.safeParse({ ...job, steps: [{ run: "x", runtime_expressions: ["if"] }] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(["steps", 0, "runtime_expressions", 0]);
  });

  it("validates contexts from a task with zod", () => {
    expect(
      ActionsContextsSchema.safeParse({ github: { sha: SHA }, needs: { a: { result: "success" } } }).success,
    ).toBe(true);
    const bad = ActionsContextsSchema.safeParse({ secrets: { A: 1 } });
    expect(bad.success).toBe(false);
  });
});

describe("translateJob: secrets", () => {
  it("masks every secret, each line of multi-line ones, and the token", async () => {
    const cert = "-----BEGIN-----\nabc\n-----END-----";
    const { request } = await translate("secrets.yml", {
      contexts: { secrets: { API_KEY: "k3y", CERT: cert, EMPTY: "", BLANK: "  " } },
    });
    expect(request.mask).toEqual(["k3y", cert, "-----BEGIN-----", "abc", "-----END-----", "tok-123"]);
    expect(request.env["API_KEY"]).toBe("k3y");
    // secrets.GITHUB_TOKEN is the job token, as in Actions.
    expect(request.steps[2]!.run).toBe("echo token tok-123 tok-123");
  });
});
