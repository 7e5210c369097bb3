import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AmqpJobQueue, mqConfigEnv, newJobRequest } from "@solstice/common";
import {
  deleteMqByPrefix,
  eventually,
  freePort,
  mqPrefix,
  OrchestratorProcess,
  requirePostgres,
  requireRabbitMQ,
} from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { postgresSchema } from "../../orchestrator/test/orchestrator-support.ts";
import { runCiadm } from "./cli-support.ts";
import { uniqueMq } from "./mq-support.ts";

// Short request ids against a real orchestrator (`solstice-orchestrator run`, a child process from
// source) on real RabbitMQ and Postgres (names private to this file): three jobs whose ids the
// test chooses, on a label whose image cannot be fetched, so each is recorded and fails at once
// without a VM. Then `ciadm status|logs|cancel` with unique, ambiguous, unknown and bad prefixes.

const prefix = mqPrefix("ciadm-prefix");
const mq = uniqueMq(prefix);
const token = randomBytes(24).toString("hex");
const IDS = [
  "abcd1111-0000-4000-8000-000000000001",
  "abcd2222-0000-4000-8000-000000000002",
  "ef012345-0000-4000-8000-000000000003",
];
let dir: string;
let pg: Awaited<ReturnType<typeof postgresSchema>> | undefined;
let orchestrator: OrchestratorProcess | undefined;
let env: Record<string, string>;

beforeAll(async () => {
  await requireRabbitMQ();
  await requirePostgres();
  dir = await mkdtemp(join(tmpdir(), "ciadm-prefix-"));
  await writeFile(
    join(dir, "images.yaml"),
    `default_label: missing
images:
  missing:
    source: file://${dir}/no-such-image.qcow2
    local_path: ${dir}/images/missing.qcow2
`,
  );
  pg = await postgresSchema("ciadm_prefix");

  const httpPort = await freePort();
  const orchUrl = `http://127.0.0.1:${httpPort}`;
  orchestrator = OrchestratorProcess.start({
    ...mqConfigEnv(mq),
    DATABASE_URL: pg.url,
    ORCH_CONFIG: join(dir, "images.yaml"),
    STATE_DIR: join(dir, "state"),
    HOST_ID: `ciadm-prefix-${process.pid}`,
    HTTP_ADDR: `127.0.0.1:${httpPort}`,
    HTTP_TOKEN: token,
    MAX_CONCURRENCY: "1",
    DRAIN_TIMEOUT_SECS: "0",
    LOG_LEVEL: "warn",
  });
  await orchestrator.waitReady(orchUrl, 120_000, token);
  env = { ORCH_URL: orchUrl, HTTP_TOKEN: token };

  const queue = await AmqpJobQueue.connect({ config: mq });
  try {
    for (const id of IDS) {
      await queue.publishJob(
        newJobRequest({
          request_id: id,
          source: "manual",
          repo_url: "git://127.0.0.1:9/none",
          commit_sha: "0".repeat(40),
          runs_on: "missing",
          steps: [{ run: "true" }],
        }),
      );
    }
  } finally {
    await queue.close({ timeoutMs: 5_000 });
  }
  let last = "";
  await eventually(
    "the three jobs finished",
    async () => {
      const r = await fetch(`${orchUrl}/v1/jobs`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await r.json()) as { jobs: { request_id: string; finished_at: string | null }[] };
      last = JSON.stringify(body.jobs);
      return IDS.every((id) => body.jobs.some((j) => j.request_id === id && j.finished_at !== null));
    },
    60_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\njobs: ${last}\norchestrator:\n${orchestrator?.output()}`);
  });
}, 240_000);

afterAll(async () => {
  await orchestrator?.stop("SIGTERM");
  await pg?.drop();
  await deleteMqByPrefix(prefix);
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe("ciadm takes short request ids", { timeout: 180_000 }, () => {
  const ciadm = (...args: string[]) => runCiadm(args, { env, timeoutMs: 120_000 });

  test("a unique prefix names its job (status, logs, cancel)", async () => {
    const status = await ciadm("status", "ef01", "--json");
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ request_id: IDS[2], state: "finished" });

    const longer = await ciadm("status", "ABCD2", "--json");
    expect(JSON.parse(longer.stdout)).toMatchObject({ request_id: IDS[1] });

    const logs = await ciadm("logs", "abcd1", "--json");
    expect(logs.code).toBe(0);

    // It resolves, then the API refuses: the job already finished (exit 1, not "not found").
    const cancel = await ciadm("cancel", "ef012345");
    expect(cancel.stderr).toContain("finished");
    expect(cancel.code).toBe(1);
  });

  test("an ambiguous prefix lists the candidates; unknown and bad prefixes say so (exit 2)", async () => {
    const ambiguous = await ciadm("status", "abcd");
    expect(ambiguous.stderr).toContain("2 jobs' request ids start with abcd:");
    expect(ambiguous.stderr).toContain(`  ${IDS[0]}  finished  received `);
    expect(ambiguous.stderr).toContain(`  ${IDS[1]}  finished  received `);
    expect(ambiguous.stderr).toContain("hint: give more of the id");
    expect(ambiguous.code).toBe(2);

    const unknown = await ciadm("logs", "9999");
    expect(unknown.stderr).toMatch(/no job's request id starts with 9999 \(among the \d+ newest jobs\)/);
    expect(unknown.code).toBe(2);

    const short = await ciadm("cancel", "ab");
    expect(short.stderr).toContain('"ab" is not a request id or a prefix of one (at least 4');
    expect(short.code).toBe(2);
  });
});
