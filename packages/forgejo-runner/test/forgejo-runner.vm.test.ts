import { Result } from "@solstice/forgejo-protocol";
import { eventually } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForgejoRig, makeRepository } from "./forgejo-support.ts";

// The Forgejo runner end to end: the Forgejo protocol test server hands out tasks built from
// real workflow YAML, the runner translates them and publishes jobs, a real orchestrator runs
// them in the fast guest, and the runner reports rows and states back. Each test is one task,
// one VM.

type Task = ReturnType<ForgejoRig["server"]["task"]>;

let rig: ForgejoRig;
let sha: string;
const REPO = "acme/widget";

beforeAll(async () => {
  rig = await ForgejoRig.start("e2e");
  const repo = await makeRepository(rig.dir, { "hello.txt": "hello from the repository\n" });
  sha = repo.sha;
  rig.server.addRepository(REPO, repo.path, { private: true });
  await rig.register();
  await rig.startDaemon({ cancelGraceMs: 60_000 });
});

afterAll(async () => {
  await rig?.stop();
});

function addTask(workflow: string, extra: { secrets?: Record<string, string> } = {}): Task {
  return rig.server.addTask({ workflow, repository: REPO, sha, ...extra });
}

async function finished(task: Task, timeoutMs = 240_000): Promise<Task> {
  return rig.server.waitForTask(task.id, (t) => t.status === "done" && t.noMore, timeoutMs);
}

function contents(task: Task): string[] {
  return task.rows.map((r) => r.content);
}

/** The rows of step `index`, by its log_index and log_length. */
function stepRows(task: Task, index: number): string[] {
  const step = task.state.steps[index];
  if (step === undefined) return [];
  return contents(task).slice(Number(step.logIndex), Number(step.logIndex) + Number(step.logLength));
}

describe("forgejo-runner with a real orchestrator", () => {
  it("runs a job with checkout and three run steps: every row in order, masked, the right states", async () => {
    const task = addTask(
      `on: push
jobs:
  build:
    runs-on: fast
    outputs:
      version: \${{ steps.third.outputs.version }}
    steps:
      - uses: actions/checkout@v4
      - name: Show
        run: |
          cat hello.txt
          i=1; while [ $i -le 50 ]; do echo "line $i"; i=$((i+1)); done
      - name: Secrets
        env:
          API_KEY: \${{ secrets.API_KEY }}
        run: |
          echo "the secret is \${{ secrets.API_KEY }}"
          echo "from env: $API_KEY"
          echo "::add-mask::dynamic-value-42"
          echo "later: dynamic-value-42"
          printf '%s\\n' "$MULTI"
        shell: bash
      - name: Third
        id: third
        run: |
          echo "third step done"
          echo "version=2.0" >> "$GITHUB_OUTPUT"
`,
      { secrets: { API_KEY: "sekrit-value-1", MULTI: "first-line-x\nsecond-line-y" } },
    );
    const done = await finished(task);
    const rows = contents(done);
    expect(done.result, rows.join("\n")).toBe(Result.SUCCESS);
    expect(done.state.steps.map((s) => s.result)).toEqual([
      Result.SUCCESS,
      Result.SUCCESS,
      Result.SUCCESS,
      Result.SUCCESS,
    ]);
    // Every line, once, in order.
    const lines = rows.filter((r) => /^line \d+$/.test(r));
    expect(lines).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i + 1}`));
    expect(stepRows(done, 1)).toContain("hello from the repository");
    expect(stepRows(done, 1)).toContain("line 50");
    expect(stepRows(done, 0).join("\n")).toMatch(/checkout: HEAD is now at [0-9a-f]{40}/);
    expect(stepRows(done, 3)).toContain("third step done");
    // The job's outputs, rendered from the steps' GITHUB_OUTPUT.
    expect(done.outputs).toEqual({ version: "2.0" });
    // Steps' ranges follow each other.
    const ranges = done.state.steps.map((s) => [Number(s.logIndex), Number(s.logLength)] as const);
    for (let i = 1; i < ranges.length; i += 1) {
      expect(ranges[i]![0]).toBeGreaterThanOrEqual(ranges[i - 1]![0] + ranges[i - 1]![1]);
    }
    // Timestamps never go back.
    const times = done.rows.map((r) => r.time.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // Masked: secrets, each line of a multi-line one, an ::add-mask:: value, the task token.
    expect(stepRows(done, 2)).toEqual(
      expect.arrayContaining(["the secret is ***", "from env: ***", "::add-mask::***", "later: ***"]),
    );
    const all = rows.join("\n");
    for (const secret of [
      "sekrit-value-1",
      "first-line-x",
      "second-line-y",
      "dynamic-value-42",
      done.token,
    ]) {
      expect(all).not.toContain(secret);
    }
  });

  it("a failing step fails the job: later steps skipped, failure() and always() steps run", async () => {
    const task = addTask(`on: push
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
    const done = await finished(task);
    const rows = contents(done);
    expect(done.result, rows.join("\n")).toBe(Result.FAILURE);
    expect(done.state.steps.map((s) => s.result)).toEqual([
      Result.SUCCESS,
      Result.FAILURE,
      Result.SKIPPED,
      Result.SUCCESS,
      Result.SUCCESS,
    ]);
    expect(stepRows(done, 3)).toContain("on-failure");
    expect(stepRows(done, 4)).toContain("always-runs");
    expect(rows).not.toContain("should-not-run");
  });

  it("an unsupported action fails clearly; continue-on-error lets the job go on", async () => {
    const task = addTask(`on: push
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
    const done = await finished(task);
    expect(done.result).toBe(Result.FAILURE);
    expect(done.state.steps.map((s) => s.result)).toEqual([
      Result.FAILURE,
      Result.SUCCESS,
      Result.FAILURE,
      Result.SKIPPED,
    ]);
    const first = stepRows(done, 0).join("\n");
    expect(first).toContain("docker/login-action@v3");
    expect(first).toMatch(/only `?run`? steps and .*checkout/);
    expect(stepRows(done, 1)).toContain("after-continue");
    expect(stepRows(done, 2).join("\n")).toContain("some-org/some-action@v1");
  });

  it("a task cancelled in Forgejo mid-job: the VM is gone and the task ends cancelled", async () => {
    const task = addTask(`on: push
jobs:
  long:
    runs-on: fast
    steps:
      - run: echo started-long; sleep 300
      - if: always()
        run: echo cleanup
`);
    await rig.server.waitForTask(task.id, (t) => contents(t).includes("started-long"), 240_000);
    expect((await rig.vms()).length).toBe(1);
    rig.server.cancelTask(task.id);
    const done = await finished(task, 120_000);
    expect(done.result).toBe(Result.CANCELLED);
    expect(contents(done).join("\n")).toContain("cancelled in Forgejo");
    await eventually("the VM gone", async () => (await rig.vms()).length === 0, 60_000);
    await eventually("the runner idle", () => rig.daemon?.tasks.size === 0, 30_000);
  });

  it("a runner restart mid-job loses nothing: every row once, in order, and the final state", async () => {
    const task = addTask(`on: push
jobs:
  ticks:
    runs-on: fast
    steps:
      - run: i=1; while [ $i -le 12 ]; do echo "tick $i"; i=$((i+1)); sleep 1; done
      - run: echo second-step
`);
    await rig.server.waitForTask(task.id, (t) => contents(t).includes("tick 3"), 240_000);
    await rig.daemon?.stop();
    // While it is down the job goes on; its events wait in the runner's durable queue.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await rig.startDaemon({ cancelGraceMs: 60_000 });
    const done = await finished(task);
    const rows = contents(done);
    expect(done.result, rows.join("\n")).toBe(Result.SUCCESS);
    expect(rows.filter((r) => r.startsWith("tick "))).toEqual(
      Array.from({ length: 12 }, (_, i) => `tick ${i + 1}`),
    );
    expect(stepRows(done, 1)).toContain("second-step");
    expect(rows).toContain("Solstice CI: the runner restarted; resuming this task's log");
    expect(done.state.steps.map((s) => s.result)).toEqual([Result.SUCCESS, Result.SUCCESS]);
  });
});
