import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { MQ_SETTINGS } from "@solstice/common";
import { ORCHESTRATOR_MAIN_TS, tempDir } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SERVICE_SETTINGS } from "../src/config/service-settings.ts";

// `solstice-orchestrator` as a command, run from source as in development:
// node --conditions=@solstice/source packages/orchestrator/src/main.ts ...

const run = promisify(execFile);

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ["--conditions=@solstice/source", ORCHESTRATOR_MAIN_TS, ...args],
      {
        env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", ...env },
        timeout: 60_000,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  dir = await tempDir("orch-cli");
});
afterAll(async () => dir?.remove());

// Each case starts Node (and PGlite): seconds, not milliseconds, on a busy machine.
describe("solstice-orchestrator", { timeout: 60_000 }, () => {
  test("--help lists both commands and every flag with its environment variable", async () => {
    const { code, stdout } = await cli(["--help"]);
    expect(code).toBe(0);
    const help = stdout.replace(/\s+/g, " ");
    expect(help).toContain("Usage: solstice-orchestrator [options] [command]");
    expect(help).toMatch(/run run the service \(the default command\)/);
    expect(help).toContain("migrate apply the database migrations");
    for (const s of SERVICE_SETTINGS) {
      expect(help).toContain(s.flag);
      expect(help).toContain(`env: ${s.env}`);
    }
    for (const s of MQ_SETTINGS) expect(help).toContain(`env: ${s.env}`);
    for (const env of [
      "ORCH_CONFIG",
      "MAX_CONCURRENCY",
      "CAPACITY_MAP",
      "DATABASE_URL",
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      "HTTP_ADDR",
      "HTTP_TOKEN",
      "HOST_ID",
      "STATE_DIR",
    ]) {
      expect(help).toContain(`env: ${env}`);
    }
    expect(help).toContain("default: MAX_CONCURRENCY, env: AMQP_PREFETCH");
  });

  test("a bad setting stops it with exit code 2, naming the flag and the variable", async () => {
    const { code, stderr } = await cli(["run"], { MAX_CONCURRENCY: "two" });
    expect(code).toBe(2);
    expect(stderr).toContain('--max-concurrency / MAX_CONCURRENCY: expected a whole number (got "two")');
    const secret = await cli(["run", "--database-url", "mysql://u:hunter2@db/x"]);
    expect(secret.code).toBe(2);
    expect(secret.stderr).toContain("DATABASE_URL");
    expect(secret.stderr).not.toContain("hunter2");
  });

  test("migrate brings the embedded database (PGlite under STATE_DIR) up to date, then has nothing to do", async () => {
    const stateDir = join(dir.path, "state");
    const first = await cli(["migrate"], { STATE_DIR: stateDir });
    expect(first.stderr).toBe("");
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toBe(
      `pglite:${stateDir}/db: applied 7 migration(s): 0001-jobs, 0002-vms, 0003-job-logs, 0004-job-event-seq, 0005-job-log-lines, 0006-fleet-hosts, 0007-fleet-host-drain\n`,
    );
    const second = await cli(["migrate", "--state-dir", stateDir]);
    expect(second.stdout).toBe(`pglite:${stateDir}/db: up to date\n`);
  });

  test("a start that fails says which part and exits 1", async () => {
    const { code, stderr } = await cli(["run"], {
      STATE_DIR: join(dir.path, "state-bad"),
      ORCH_CONFIG: join(dir.path, "no-such-map.yaml"),
      HTTP_ADDR: "127.0.0.1:0",
    });
    expect(code).toBe(1);
    expect(stderr).toContain("cannot start: image map:");
    expect(stderr).toContain("no-such-map.yaml");
  });
});
