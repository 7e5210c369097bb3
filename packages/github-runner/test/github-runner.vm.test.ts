import { stat } from "node:fs/promises";
import { join } from "node:path";
import { CONCLUSION_NAMES, type JobRecord, STATUS_NAMES } from "@solstice/github-test-server";
import { eventually } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitHubRig, makeRepository, REPO } from "./github-support.ts";

// The GitHub runner end to end: the GitHub protocol test server queues jobs built from real
// workflow YAML, the runner registered by token acquires them over the broker, translates and
// publishes them, a real orchestrator runs them in the fast guest, and the runner reports step
// records, logs, live lines and the completion back. Each test is one job, one VM.

let rig: GitHubRig;
let sha: string;

beforeAll(async () => {
  rig = await GitHubRig.start("e2e");
  const repo = await makeRepository(rig.dir, { "hello.txt": "hello from the repository\n" });
  sha = repo.sha;
  rig.server.addRepository(REPO, { gitDir: repo.path, private: true });
  await rig.register();
  await rig.startDaemon({ cancelGraceMs: 60_000 });
});

afterAll(async () => {
  await rig?.stop();
});

function addJob(workflowYaml: string, extra: { secrets?: Record<string, string> } = {}) {
  return rig.server.addJob({ repository: REPO, sha, workflowYaml, ...extra });
}

function stepLog(job: JobRecord, index: number): string {
  const step = job.steps[index];
  if (step === undefined) return "";
  return rig.server.stepLog(job.id, step.externalId) ?? "";
}

const nameOf = (names: Readonly<Record<string, number>>, n: number) =>
  Object.entries(names)
    .find(([, v]) => v === n)?.[0]
    .replace(/^(STATUS|CONCLUSION)_/, "")
    .toLowerCase() ?? String(n);

/** `name: status/conclusion` per step record. */
function records(job: JobRecord): string[] {
  return job.steps.map(
    (s) => `${s.name}: ${nameOf(STATUS_NAMES, s.status)}/${nameOf(CONCLUSION_NAMES, s.conclusion)}`,
  );
}

/** Every text the server holds for a job: step logs, the job log, live lines, the completion. */
function everything(job: JobRecord): string {
  return [
    ...job.steps.map((_, i) => stepLog(job, i)),
    rig.server.jobLog(job.id) ?? "",
    ...job.feed.map((l) => l.text),
    JSON.stringify(job.completion ?? {}),
    JSON.stringify(job.steps),
  ].join("\n");
}

describe("github-runner with a real orchestrator", () => {
  it("runs checkout and three run steps: records in order, step logs, live lines, summary, outputs", async () => {
    const added = await addJob(`on: push
jobs:
  build:
    runs-on: [self-hosted, fast]
    outputs:
      version: \${{ steps.third.outputs.version }}
    steps:
      - uses: actions/checkout@v4
      - name: Show
        run: |
          cat hello.txt
          i=1; while [ $i -le 50 ]; do echo "line $i"; i=$((i+1)); done
          echo "FROM_SHOW=carried" >> "$GITHUB_ENV"
      - name: Env
        env:
          GREETING: hi
        run: |
          echo "greeting=$GREETING from-show=$FROM_SHOW"
          echo "::warning file=hello.txt,line=1::look at this"
          echo "### summary of Env" >> "$GITHUB_STEP_SUMMARY"
      - name: Third
        id: third
        run: |
          echo "third step done"
          echo "version=2.0" >> "$GITHUB_OUTPUT"
`);
    const job = await rig.completed(added.id);
    expect(job.completion?.conclusion, rig.log.text()).toBe("succeeded");
    expect(records(job)).toEqual([
      "Run actions/checkout@v4: completed/success",
      "Show: completed/success",
      "Env: completed/success",
      "Third: completed/success",
    ]);
    // In order: each step started after the one before it finished.
    for (let i = 1; i < job.steps.length; i++) {
      expect(Date.parse(job.steps[i]!.startedAt ?? "")).toBeGreaterThanOrEqual(
        Date.parse(job.steps[i - 1]!.completedAt ?? ""),
      );
    }
    expect(stepLog(job, 0)).toContain(`HEAD is now at ${sha}`);
    const show = stepLog(job, 1);
    expect(show).toContain("hello from the repository");
    const lines = show.split("\n").filter((l) => /\bline \d+$/.test(l));
    expect(lines.map((l) => l.replace(/^.*\bline /, "line "))).toEqual(
      Array.from({ length: 50 }, (_, i) => `line ${i + 1}`),
    );
    expect(stepLog(job, 2)).toContain("greeting=hi from-show=carried");
    expect(stepLog(job, 3)).toContain("third step done");
    // The live feed carried the lines as they ran, under the step's id.
    const showId = job.steps[1]!.externalId;
    expect(job.feed.filter((l) => l.stepId === showId && l.text.endsWith("line 50"))).toHaveLength(1);
    expect(job.feedRejected).toEqual([]);
    expect(rig.server.jobLog(job.id)).toContain("third step done");
    expect(job.stepLogMetadata.get(showId)?.lineCount).toBeGreaterThanOrEqual(51);
    expect(rig.server.stepSummary(job.id, job.steps[2]!.externalId)).toContain("### summary of Env");
    // Outputs and annotations reach completejob.
    expect(job.completion?.outputs["version"]?.value).toBe("2.0");
    expect(JSON.stringify(job.completion?.annotations)).toContain("look at this");
    // The first renew came before anything ran; the job was completed once.
    // (This is the rig's first job: the calls after the first acquirejob are this job's.)
    const calls = rig.server.calls.map((c) => c.endpoint);
    const acquired = calls.indexOf("acquirejob");
    const firstRenew = calls.indexOf("renewjob", acquired);
    const firstUpdate = calls.indexOf("WorkflowStepsUpdate", acquired);
    expect(acquired).toBeGreaterThanOrEqual(0);
    expect(firstRenew).toBeGreaterThan(acquired);
    expect(firstUpdate).toBeGreaterThan(firstRenew);
    expect(job.completeCount).toBe(1);
    expect(job.acquireCount).toBe(1);
    await eventually("the VM gone", async () => (await rig.vms()).length === 0, 60_000);
  });

  it("masks secrets, the job's token and ::add-mask:: values everywhere", async () => {
    const secret = "sekrit-value-1";
    const added = await addJob(
      `on: push
jobs:
  masks:
    runs-on: fast
    steps:
      - name: Secrets
        env:
          API_KEY: \${{ secrets.API_KEY }}
          MULTI: \${{ secrets.MULTI }}
        run: |
          echo "the secret is \${{ secrets.API_KEY }}"
          echo "from env: $API_KEY"
          echo "::add-mask::dynamic-value-42"
          echo "later: dynamic-value-42"
          printf '%s\\n' "$MULTI"
          echo "token: \${{ github.token }}"
        shell: bash
`,
      { secrets: { API_KEY: secret, MULTI: "first-line-x\nsecond-line-y" } },
    );
    const job = await rig.completed(added.id);
    const log = stepLog(job, 0);
    expect(job.completion?.conclusion, `${log}\n${rig.server.jobLog(job.id)}`).toBe("succeeded");
    expect(log).toContain("the secret is ***");
    expect(log).toContain("from env: ***");
    expect(log).toContain("later: ***");
    expect(log).toContain("token: ***");
    const all = `${everything(job)}\n${rig.log.raw()}`;
    for (const value of [secret, "dynamic-value-42", "first-line-x", "second-line-y", job.token ?? "never"]) {
      expect(all).not.toContain(value);
    }
  });

  it("a failing step fails the job: later steps skipped, failure() and always() steps run", async () => {
    const added = await addJob(`on: push
jobs:
  fail:
    runs-on: fast
    steps:
      - run: echo before
      - run: echo failing; exit 3
      - run: echo should-not-run
      - if: failure()
        run: echo on-failure
      - if: always()
        run: echo always-runs
`);
    const job = await rig.completed(added.id);
    expect(job.completion?.conclusion, rig.log.text()).toBe("failed");
    expect(records(job).map((r) => r.replace(/^.*: /, ""))).toEqual([
      "completed/success",
      "completed/failure",
      "completed/skipped",
      "completed/success",
      "completed/success",
    ]);
    expect(stepLog(job, 1)).toContain("##[error]Process completed with exit code 3.");
    expect(job.completion?.annotations).toContainEqual(
      expect.objectContaining({ level: "failure", message: "Process completed with exit code 3." }),
    );
    expect(stepLog(job, 3)).toContain("on-failure");
    expect(stepLog(job, 4)).toContain("always-runs");
    expect(everything(job)).not.toContain("should-not-run\n");
  });

  it("an unsupported action fails its step clearly; continue-on-error lets the job go on", async () => {
    const added = await addJob(`on: push
jobs:
  actions:
    runs-on: fast
    steps:
      - uses: docker/login-action@v3
        continue-on-error: true
      - run: echo after-continue
      - uses: some-org/some-action@v1
      - run: echo not-reached
`);
    const job = await rig.completed(added.id);
    expect(job.completion?.conclusion, rig.log.text()).toBe("failed");
    expect(records(job).map((r) => r.replace(/^.*: /, ""))).toEqual([
      "completed/failure",
      "completed/success",
      "completed/failure",
      "completed/skipped",
    ]);
    expect(stepLog(job, 0)).toContain("docker/login-action@v3");
    expect(stepLog(job, 0)).toMatch(/only `?run`? steps and .*checkout/);
    expect(stepLog(job, 1)).toContain("after-continue");
    expect(stepLog(job, 2)).toContain("some-org/some-action@v1");
  });

  it("a job cancelled on GitHub mid-step: the VM is gone and the job completes canceled", async () => {
    const added = await addJob(`on: push
jobs:
  long:
    runs-on: fast
    steps:
      - run: echo started-long; sleep 300
      - if: always()
        run: echo cleanup
`);
    await rig.server.waitForJob(
      added.id,
      (j) => j.feed.some((l) => l.text.endsWith("started-long")),
      240_000,
    );
    expect((await rig.vms()).length).toBe(1);
    rig.server.cancelJob(added.id);
    const job = await rig.completed(added.id, 120_000);
    expect(job.completion?.conclusion, rig.log.text()).toBe("canceled");
    await eventually("the VM gone", async () => (await rig.vms()).length === 0, 60_000);
    await eventually("the runner idle", () => rig.daemon?.jobs.size === 0, 30_000);
  });

  it("stopping the daemon ends its broker session (and its note of it)", async () => {
    expect(rig.server.sessions().filter((x) => x.deletedAt === undefined)).toHaveLength(1);
    await rig.daemon?.stop();
    rig.daemon = undefined;
    expect(rig.server.sessions().filter((x) => x.deletedAt === undefined)).toEqual([]);
    await expect(stat(join(rig.stateDir, ".session"))).rejects.toThrow(/ENOENT/);
  });
});
