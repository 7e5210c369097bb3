import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { mqConfigEnv } from "@solstice/common";
import {
  deleteMqByPrefix,
  freePort,
  mqPrefix,
  OrchestratorProcess,
  qemuProcessesUsing,
  requirePostgres,
  requireRabbitMQ,
} from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { postgresSchema } from "../../orchestrator/test/orchestrator-support.ts";
import { REPO_ROOT, runCiadm } from "./cli-support.ts";
import { uniqueMq } from "./mq-support.ts";

// `ciadm trigger --wait` through a real orchestrator (`solstice-orchestrator run`, a child process
// from source) on real RabbitMQ (names private to this file) and Postgres (a private schema): the
// job runs in the fast test guest, cloning a repository directory that ciadm serves itself. Then the other
// HTTP API commands on that job: status, jobs, logs, cancel, health.

const run = promisify(execFile);
const prefix = mqPrefix("ciadm-trigger");
const mq = uniqueMq(prefix);
const token = randomBytes(24).toString("hex");
let dir: string;
let pg: Awaited<ReturnType<typeof postgresSchema>> | undefined;
let schemaUrl: string;
let orchestrator: OrchestratorProcess | undefined;
let orchUrl: string;
let repo: { dir: string; sha: string };
let env: Record<string, string>;

beforeAll(async () => {
  await requireRabbitMQ();
  await requirePostgres();
  await run("bash", [join(REPO_ROOT, "scripts/build-test-guests.sh"), "fast"], { timeout: 600_000 });
  dir = await mkdtemp(join(tmpdir(), "ciadm-trigger-"));

  // The repository the guest clones: ciadm trigger serves it (git daemon on loopback, seen from
  // the guest as 10.0.2.2).
  const repoDir = join(dir, "git", "repo");
  await mkdir(repoDir, { recursive: true });
  await writeFile(join(repoDir, "hello.txt"), "hello from the repo\n");
  const git = (...args: string[]) =>
    run("git", ["-c", "user.name=T", "-c", "user.email=t@example.invalid", ...args], { cwd: repoDir });
  await git("init", "-q");
  await git("add", "-A");
  await git("commit", "-qm", "init");
  repo = {
    dir: repoDir,
    sha: (await git("rev-parse", "HEAD")).stdout.trim(),
  };

  // A private Postgres schema.
  pg = await postgresSchema("ciadm");
  schemaUrl = pg.url;

  const httpPort = await freePort();
  orchUrl = `http://127.0.0.1:${httpPort}`;
  orchestrator = OrchestratorProcess.start({
    ...mqConfigEnv(mq),
    DATABASE_URL: schemaUrl,
    ORCH_CONFIG: join(REPO_ROOT, "examples/orchestrator-image-map.yaml"),
    STATE_DIR: join(dir, "state"),
    HOST_ID: `ciadm-test-${process.pid}`,
    HTTP_ADDR: `127.0.0.1:${httpPort}`,
    HTTP_TOKEN: token,
    MAX_CONCURRENCY: "1",
    CAPACITY_MAP: "solstice-fast-guest=1",
    DRAIN_TIMEOUT_SECS: "0",
    LOG_LEVEL: "info",
  });
  await orchestrator.waitReady(orchUrl, 120_000, token);
  // ciadm reads the token from HTTP_TOKEN when ORCH_TOKEN is not set.
  env = { ...mqConfigEnv(mq), ORCH_URL: orchUrl, HTTP_TOKEN: token };
});

afterAll(async () => {
  await orchestrator?.stop("SIGTERM");
  await pg?.drop();
  await deleteMqByPrefix(prefix);
  const leftovers = dir === undefined ? [] : await qemuProcessesUsing(dir);
  for (const pid of leftovers) process.kill(pid, "SIGKILL");
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  expect(leftovers).toEqual([]);
});

describe("ciadm against a running orchestrator", { timeout: 300_000 }, () => {
  test("trigger --wait runs the job and exits by its conclusion; status, jobs, logs, cancel, health", async () => {
    const triggered = await runCiadm(
      [
        "trigger",
        // A repository directory of this host, its HEAD resolved here: ciadm serves it to the guest.
        "--repo",
        repo.dir,
        "--runs-on",
        "fast",
        "--step",
        "cat hello.txt",
        "--step",
        "echo $((20 + 22))",
        "--wait",
      ],
      { env, timeoutMs: 280_000 },
    );
    const id = triggered.stdout.trim();
    expect(id, `${triggered.stderr}\n${orchestrator?.output().slice(-3000)}`).toMatch(/^[0-9a-f-]{36}$/);
    expect(triggered.stderr).toContain("==> Step 1/2: step 1");
    expect(triggered.stderr).toContain("hello from the repo");
    expect(triggered.stderr).toContain("==> Step 2/2: step 2");
    expect(triggered.stderr).toMatch(/^42$/m);
    expect(triggered.stderr).toContain(`job ${id} success`);
    expect(triggered.stderr).toMatch(/^serving .* to the guest as git:\/\/10\.0\.2\.2:\d+\/repo /m);
    expect(triggered.stderr).toContain(`HEAD is ${repo.sha} (resolved on this host at ${repo.dir})`);
    expect(triggered.code).toBe(0);

    // A unique prefix names the job, as git takes short ids.
    const short = await runCiadm(["status", id.slice(0, 8), "--json"], { env });
    expect(JSON.parse(short.stdout)).toMatchObject({ request_id: id, commit_sha: repo.sha });

    const status = await runCiadm(["status", id, "--json"], { env });
    expect(JSON.parse(status.stdout)).toMatchObject({
      request_id: id,
      state: "finished",
      conclusion: "success",
      source: "manual",
      label: "solstice-fast-guest",
      owner: { kind: "manual" },
    });
    const statusText = await runCiadm(["status", id], { env });
    expect(statusText.stdout).toMatch(/^conclusion: +success$/m);

    const table = await runCiadm(["jobs", "--state", "finished"], { env });
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(
      /^REQUEST ID +RESULT +LABEL +SOURCE +HOST +RECEIVED +FINISHED +REPOSITORY$/,
    );
    expect(table.stdout).toMatch(new RegExp(`^${id} +success +solstice-fast-guest +manual `, "m"));
    const list = await runCiadm(["jobs", "--json", "--label", "solstice-fast-guest"], { env });
    expect((JSON.parse(list.stdout) as { request_id: string }[]).map((j) => j.request_id)).toContain(id);

    const logs = await runCiadm(["logs", id], { env });
    expect(logs.stdout).toContain("hello from the repo");
    expect(logs.stdout).toMatch(/^42$/m);
    // --json: one whole object per line, as documented.
    const jsonLines = await runCiadm(["logs", id, "--json"], { env });
    const objects = jsonLines.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { seq: number; text: string });
    expect(objects.map((o) => o.text)).toContain("42");
    expect(objects.every((o) => typeof o.seq === "number")).toBe(true);

    const cancel = await runCiadm(["cancel", id], { env });
    expect(cancel.stderr).toContain("JOB_FINISHED");
    expect(cancel.code).toBe(1);

    const health = await runCiadm(["health", "--json"], { env: { ...env, DATABASE_URL: schemaUrl } });
    expect(JSON.parse(health.stdout)).toEqual([
      expect.objectContaining({ name: "orchestrator", status: "ok" }),
      expect.objectContaining({ name: "broker", status: "ok" }),
      expect.objectContaining({ name: "database", status: "ok" }),
    ]);
    expect(health.code).toBe(0);

    const wrongToken = await runCiadm(["jobs"], { env: { ...env, ORCH_TOKEN: "not-the-token-at-all" } });
    expect(wrongToken.stderr).toContain("UNAUTHORIZED");
    expect(wrongToken.code).toBe(2);
  });
});
