import { generateKeyPairSync } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { eventually, queuesByPrefix } from "@solstice/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { GitHubRig, LABEL, makeRepository, REPO } from "./github-support.ts";

// The two ways to run without `register`, end to end with a real orchestrator on the fast guest:
// a just-in-time config (one job, then the process exits) and GitHub App mode (the service
// mints JIT configs through the App's installation, keeps an ephemeral runner ready, and
// replaces it after each job).

const WORKFLOW = (word: string) => `on: push
jobs:
  hello:
    runs-on: [self-hosted, fast]
    steps:
      - uses: actions/checkout@v4
      - run: cat hello.txt; echo "${word}"
`;

let rig: GitHubRig | undefined;

afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

async function jitConfig(server: GitHubRig["server"], name: string): Promise<string> {
  const answer = await fetch(`${server.urls.api}/repos/${REPO}/actions/runners/generate-jitconfig`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${server.createPersonalAccessToken()}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ name, runner_group_id: 1, labels: ["self-hosted", LABEL, "fast"] }),
  });
  expect(answer.status).toBe(201);
  return ((await answer.json()) as { encoded_jit_config: string }).encoded_jit_config;
}

describe("github-runner without registering", () => {
  it("--jitconfig: runs one job, then the process exits 0; GitHub removed the runner", async () => {
    rig = await GitHubRig.start("jit");
    const r = rig;
    const repo = await makeRepository(r.dir, { "hello.txt": "hello jit\n" });
    r.server.addRepository(REPO, { gitDir: repo.path, private: true });
    const encoded = await jitConfig(r.server, "solstice-jit-1");
    const process = r.startProcess([], { ACTIONS_RUNNER_INPUT_JITCONFIG: encoded });
    const first = await r.server.addJob({ repository: REPO, workflowYaml: WORKFLOW("first-job") });
    const job = await r.completed(first.id);
    expect(job.completion?.conclusion, process.output).toBe("succeeded");
    expect(r.server.stepLog(job.id, job.steps[1]!.externalId)).toContain("hello jit");
    const exit = await Promise.race([
      process.exited,
      new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), 60_000)),
    ]);
    expect(exit, process.output).toEqual({ code: 0, signal: null });
    // The JIT runner is gone for good, and so is its event queue (the rig's other queues stay).
    const runnerQueues = (await queuesByPrefix(r.prefix)).filter((q) => q.includes("events.github"));
    expect(runnerQueues).toEqual([]);
    // An ephemeral runner takes no second job.
    const second = await r.server.addJob({ repository: REPO, workflowYaml: WORKFLOW("second-job") });
    expect(r.server.job(second.id).status).toBe("queued");
    expect(
      r.server.runners().filter((x) => x.name === "solstice-jit-1" && x.deletedAt === undefined),
    ).toEqual([]);
  });

  it("GitHub App mode: mints JIT runners through the installation and runs two jobs, one runner each", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    rig = await GitHubRig.start("app", { server: { app: { appId: 4242, publicKey } } });
    const r = rig;
    const repo = await makeRepository(r.dir, { "hello.txt": "hello app\n" });
    r.server.addRepository(REPO, { gitDir: repo.path, private: true });
    r.server.installApp("acme");
    const keyFile = join(r.dir, "app.pem");
    await writeFile(keyFile, privateKey.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 });
    const process = r.startProcess([
      "--app-id",
      "4242",
      "--app-private-key-file",
      keyFile,
      "--app-target",
      REPO,
      "--github-url",
      r.server.url,
      "--name-prefix",
      "solstice-app",
    ]);
    const a = await r.server.addJob({ repository: REPO, workflowYaml: WORKFLOW("job-a") });
    const b = await r.server.addJob({ repository: REPO, workflowYaml: WORKFLOW("job-b") });
    const jobA = await r.completed(a.id, 120_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${process.output}`);
    });
    const jobB = await r.completed(b.id, 120_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${process.output}`);
    });
    expect(jobA.completion?.conclusion, process.output).toBe("succeeded");
    expect(jobB.completion?.conclusion, process.output).toBe("succeeded");
    expect(r.server.stepLog(jobB.id, jobB.steps[1]!.externalId)).toContain("job-b");
    // Two different ephemeral runners took them, both minted by the service.
    expect(jobA.runnerId).toBeDefined();
    expect(jobB.runnerId).toBeDefined();
    expect(jobA.runnerId).not.toBe(jobB.runnerId);
    expect(r.server.calls.filter((c) => c.endpoint === "generate-jitconfig").length).toBeGreaterThanOrEqual(
      2,
    );
    expect(r.server.calls.filter((c) => c.endpoint === "installation-token").length).toBeGreaterThanOrEqual(
      1,
    );
    // A replacement is ready for the next job.
    const ready = () =>
      r.server
        .runners()
        .filter(
          (x) => x.name.startsWith("solstice-app") && x.deletedAt === undefined && x.lastPollAt !== undefined,
        );
    await eventually("a replacement runner polling", () => ready().length === 1, 60_000);
  });
});
