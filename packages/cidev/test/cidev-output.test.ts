import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runCidev, tempFiles } from "./cli-support.ts";

// The stable outputs of cidev (validate, list, show, translate --json) by snapshot, and the exit
// codes of usage errors. The files live in a temporary directory outside any git repository, so
// translate uses its placeholders (zero commit, refs/heads/main, local/workflow).

const KDL = `workflow name="Demo" {
  job id="build" runs_on="omnios-bloody" timeout=3600 {
    env CI="true"
    step name="Build" run="gmake -j4" shell="bash" working_directory="src" {
      env CC="gcc"
    }
    step name="Test" run="""
      gmake check
      ./report.sh
      """ continue_on_error=#true
    step name="Logs" run="cat build.log" if="failure()"
  }
  job id="lint" runs_on="ubuntu-24.04" {
    step run="ruff check ."
  }
}
`;

const YAML = `name: CI
on: push
jobs:
  test:
    name: Test on \${{ matrix.os }}
    runs-on: [self-hosted, "\${{ matrix.os }}"]
    strategy:
      matrix:
        os: [omnios, freebsd]
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - name: Cache
        uses: actions/cache@v4
        with:
          path: ~/.cargo
      - name: Test
        run: cargo test
        env:
          RUST_LOG: debug
`;

let dir: Awaited<ReturnType<typeof tempFiles>>;
beforeAll(async () => {
  dir = await tempFiles({ ".solstice/workflow.kdl": KDL, ".github/workflows/ci.yml": YAML });
});
afterAll(() => dir?.remove());

const cidev = (...args: string[]) => runCidev(args, { cwd: dir.path });

describe("cidev output formats", { timeout: 60_000 }, () => {
  test("validate: a valid file", async () => {
    const r = await cidev("validate", ".solstice/workflow.kdl", ".github/workflows/ci.yml");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatchInlineSnapshot(`
      "OK: .solstice/workflow.kdl: KDL workflow 'Demo' with 2 jobs
      OK: .github/workflows/ci.yml: Actions workflow 'CI' with 1 job
      "
    `);
    // Warnings name the file and line; labels are checked against the image map `run` would use
    // (its path depends on the checkout, so it is not compared here).
    const warnings = r.stderr.trimEnd().split("\n");
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(
      /^\.github\/workflows\/ci\.yml:6:14: warning: runs-on "omnios" is not served by the image map .*orchestrator-image-map\.yaml \(it serves: .*omnios-bloody.*\); cidev run would refuse it$/,
    );
    expect(warnings[1]).toMatch(
      /^\.github\/workflows\/ci\.yml:6:14: warning: runs-on "freebsd" is not served/,
    );
    expect(warnings[2]).toBe(
      ".github/workflows/ci.yml:14:9: warning: step 2 (Cache): uses: actions/cache@v4 is not supported: Solstice CI runs only `run` steps and actions/checkout (the job runs in a VM, without the Actions runtime)",
    );
  });

  test("list: KDL and Actions", async () => {
    const kdl = await cidev("list", ".");
    expect(kdl.code).toBe(0);
    expect(kdl.stdout).toMatchInlineSnapshot(`
      "Workflow: Demo
      build (runs_on: omnios-bloody)
      lint (runs_on: ubuntu-24.04)
      "
    `);
    const yaml = await cidev("list", ".github/workflows/ci.yml");
    expect(yaml.stdout).toMatchInlineSnapshot(`
      "Workflow: CI
      test (runs_on: self-hosted, \${{ matrix.os }}) — Test on \${{ matrix.os }}
      "
    `);
  });

  test("show: a KDL job and an Actions job, as written", async () => {
    const kdl = await cidev("show", ".solstice/workflow.kdl", "--job", "build");
    expect(kdl.code).toBe(0);
    expect(kdl.stdout).toMatchInlineSnapshot(`
      "Job: build
      runs_on: omnios-bloody
      env: CI=true
      timeout: 3600s
      kdl_version: 2
      - Step 1/3: Build
        run: gmake -j4
        shell: bash
        working_directory: src
        env: CC=gcc
      - Step 2/3: Test
        run: gmake check
             ./report.sh
        continue_on_error: true
      - Step 3/3: Logs
        run: cat build.log
        if: failure()
      "
    `);
    const yaml = await cidev("show", ".github/workflows/ci.yml");
    expect(yaml.stdout).toMatchInlineSnapshot(`
      "Job: test
      name: Test on \${{ matrix.os }}
      runs_on: self-hosted, \${{ matrix.os }}
      - Step 1/3: Run actions/checkout@v4
        uses: actions/checkout@v4
        with: fetch-depth=0
      - Step 2/3: Cache
        uses: actions/cache@v4
        with: path=~/.cargo
      - Step 3/3: Test
        run: cargo test
        env: RUST_LOG=debug
      "
    `);
  });

  test("list --json and show --json: one parseable object each, every field as written", async () => {
    const list = await cidev("list", ".", "--json");
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({
      file: ".solstice/workflow.kdl",
      format: "kdl",
      name: "Demo",
      jobs: [
        { id: "build", runs_on: "omnios-bloody", name: null, steps: 3 },
        { id: "lint", runs_on: "ubuntu-24.04", name: null, steps: 1 },
      ],
    });
    const kdl = await cidev("show", ".", "--job", "build", "--json");
    expect(kdl.code).toBe(0);
    const shown = JSON.parse(kdl.stdout);
    expect({ ...shown, steps: shown.steps.length }).toEqual({
      file: ".solstice/workflow.kdl",
      format: "kdl",
      kdl_version: 2,
      job: "build",
      name: null,
      runs_on: "omnios-bloody",
      needs: [],
      if: null,
      env: { CI: "true" },
      timeout: "3600s",
      steps: 3,
    });
    expect(shown.steps[0]).toEqual({
      index: 0,
      id: null,
      name: "Build",
      uses: null,
      with: null,
      run: "gmake -j4",
      if: null,
      shell: "bash",
      working_directory: "src",
      timeout: null,
      continue_on_error: null,
      env: { CC: "gcc" },
    });
    expect(shown.steps[1]).toMatchObject({ run: "gmake check\n./report.sh", continue_on_error: "true" });
    expect(shown.steps[2]).toMatchObject({ name: "Logs", if: "failure()" });

    const yaml = await cidev("show", ".github/workflows/ci.yml", "--json");
    expect(yaml.code).toBe(0);
    const actions = JSON.parse(yaml.stdout);
    expect(actions).toMatchObject({
      format: "actions",
      kdl_version: null,
      job: "test",
      name: `Test on \${{ matrix.os }}`,
      runs_on: `self-hosted, \${{ matrix.os }}`,
      needs: [],
    });
    expect(actions.steps.map((s: { name: string; uses: string | null; with: string | null }) => s)).toEqual([
      expect.objectContaining({
        index: 0,
        name: "Run actions/checkout@v4",
        uses: "actions/checkout@v4",
        with: "fetch-depth=0",
      }),
      expect.objectContaining({ index: 1, name: "Cache", uses: "actions/cache@v4", run: null }),
      expect.objectContaining({
        index: 2,
        name: "Test",
        run: "cargo test",
        env: "RUST_LOG=debug",
        if: "success()",
      }),
    ]);
  });

  test("translate --json: checkout as a git step, another uses: as a failing step, warnings", async () => {
    const r = await cidev("translate", ".github/workflows/ci.yml", "--json");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { request: { steps: { run: string }[] } };
    // The checkout script is common's (tested there); here: that it is a git script.
    expect(json.request.steps[0]?.run).toContain("git");
    json.request.steps[0]!.run = "<checkout script>";
    expect(json).toMatchInlineSnapshot(`
      {
        "job": "test",
        "name": "Test on omnios",
        "request": {
          "env": {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_ACTOR": "cidev",
            "GITHUB_EVENT_NAME": "workflow_dispatch",
            "GITHUB_JOB": "test",
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_REF_NAME": "main",
            "GITHUB_REF_TYPE": "branch",
            "GITHUB_REPOSITORY": "local/workflow",
            "GITHUB_REPOSITORY_OWNER": "local",
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_RUN_ID": "1",
            "GITHUB_RUN_NUMBER": "1",
            "GITHUB_SERVER_URL": "https://localhost",
            "GITHUB_SHA": "0000000000000000000000000000000000000000",
            "GITHUB_TRIGGERING_ACTOR": "cidev",
            "GITHUB_WORKFLOW": "CI",
          },
          "labels": [
            "self-hosted",
            "omnios",
          ],
          "runs_on": "omnios",
          "steps": [
            {
              "name": "Run actions/checkout@v4",
              "run": "<checkout script>",
            },
            {
              "name": "Cache",
              "run": "printf '%s\\n' 'solstice: uses: actions/cache@v4 is not supported: Solstice CI runs only \`run\` steps and actions/checkout (the job runs in a VM, without the Actions runtime)' >&2
      exit 1
      ",
            },
            {
              "env": {
                "RUST_LOG": "debug",
              },
              "name": "Test",
              "run": "cargo test",
            },
          ],
          "workflow_job_id": "test",
          "workflow_path": ".github/workflows/ci.yml",
        },
        "should_run": true,
        "warnings": [
          {
            "column": 7,
            "file": ".github/workflows/ci.yml",
            "line": 8,
            "message": "the matrix has 2 combinations; this is the first ({"os":"omnios"}): pass contexts.matrix to choose another",
          },
          {
            "column": 9,
            "file": ".github/workflows/ci.yml",
            "line": 14,
            "message": "step 2 (Cache): uses: actions/cache@v4 is not supported: Solstice CI runs only \`run\` steps and actions/checkout (the job runs in a VM, without the Actions runtime)",
            "step": 1,
          },
        ],
      }
    `);
  });

  test("translate: a KDL job, as text", async () => {
    const r = await cidev("translate", ".solstice/workflow.kdl", "--job", "build");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatchInlineSnapshot(`
      "Job: build
      workflow_path: .solstice/workflow.kdl
      runs_on: omnios-bloody
      env: CI=true
      timeout: 3600s
      - Step 1/3: Build
        run: gmake -j4
        shell: bash
        working_directory: src
        env: CC=gcc
      - Step 2/3: Test
        run: gmake check
             ./report.sh
        continue_on_error: true
      - Step 3/3: Logs
        run: cat build.log
        if: failure()
      "
    `);
  });

  test.each([
    {
      args: ["show", ".solstice/workflow.kdl"],
      message: "has 2 jobs (build, lint): say which one with --job <id>",
    },
    {
      args: ["show", ".solstice/workflow.kdl", "--job", "nope"],
      message: 'has no job "nope" (jobs: build, lint)',
    },
    { args: ["list", "missing.kdl"], message: "cannot read workflow file missing.kdl" },
    { args: ["list", "notes.txt"], message: "cannot tell what kind of workflow notes.txt is" },
    { args: ["list", "--bogus", "x.kdl"], message: "unknown option '--bogus'" },
    { args: ["frobnicate"], message: "unknown command 'frobnicate'" },
    { args: ["validate"], message: "missing required argument 'file'" },
    { args: [], message: "Usage: cidev" },
  ])("usage error exits 2: cidev $args", async ({ args, message }) => {
    const r = await cidev(...args);
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(2);
  });

  test("--help shows the environment fallbacks; exits 0", async () => {
    const r = await cidev("run", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("env: ORCH_CONFIG");
    expect(r.stdout).toContain("env: DEBUG_SSH_TTL_SECS");
  });
});
