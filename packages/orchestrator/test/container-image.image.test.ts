import { spawn } from "node:child_process";
import { join } from "node:path";
import { requirePostgres, requireRabbitMQ } from "@solstice/test-support";
import { beforeAll, describe, expect, it } from "vitest";

// The real Containerfile built here (buildah, layers cached between runs: a code change rebuilds
// from `pnpm install` on) and the built image smoke-run with podman (scripts/image-smoke.sh: the
// non-root user in the kvm group, each service's --help, migrate against the test Postgres, the
// orchestrator in the container running one job on the fast guest, SIGTERM draining it). Needs
// root (or passwordless sudo), RabbitMQ, Postgres and the fast guest. Run by `pnpm test` when
// SOLSTICE_TEST_IMAGE=1 (.ci/run sets it; a cold build takes ~15 min, a cached one ~1–2 min).

const ROOT = join(import.meta.dirname, "..", "..", "..");
/** Budgets: a cold build makes the base images from Debian's packages first. */
const BUILD_BUDGET_MS = 25 * 60_000;
const SMOKE_BUDGET_MS = 10 * 60_000;

interface ScriptRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

/** Runs a project script with a time budget; the whole process group is killed past it. */
function runScript(script: string, args: readonly string[], budgetMs: number): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [join(ROOT, "scripts", script), ...args], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const take = (chunk: Buffer) => {
      output += chunk.toString("utf8");
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    const timer = setTimeout(() => {
      output += `\n[test] ${script} went past its budget of ${budgetMs / 60_000} min: killed\n`;
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, budgetMs);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

beforeAll(async () => {
  await requireRabbitMQ();
  await requirePostgres();
});

describe("the container image", () => {
  it(
    "builds from the real Containerfile, then runs each service, migrate, a job in a VM and a drained SIGTERM",
    async () => {
      const build = await runScript("image-build.sh", [], BUILD_BUDGET_MS);
      expect(build.code, build.output.slice(-20_000)).toBe(0);
      const built = /built (\S+) in (\d+) s/.exec(build.output);
      expect(built?.[1], build.output.slice(-5000)).toBe("solstice-ci/orchestrator:latest");
      process.stdout.write(`image built in ${built?.[2]} s\n`);

      const smoke = await runScript("image-smoke.sh", [], SMOKE_BUDGET_MS);
      expect(smoke.code, smoke.output.slice(-20_000)).toBe(0);
      // Every check of the script said it held (a script that stopped early would miss some).
      for (const check of [
        "runs as the non-root user solstice, in the kvm group",
        'entrypoint ["/usr/bin/tini","--"',
        "--help of the orchestrator, forgejo-runner and github-runner",
        "migrate against the test Postgres",
        "orchestrator ready in the container",
        "the job runs in a VM started from the container",
        "SIGTERM drained",
      ]) {
        expect(smoke.output, smoke.output.slice(-10_000)).toContain(`ok: ${check}`);
      }
      const passed = /image smoke passed in (\d+) s/.exec(smoke.output);
      expect(passed, smoke.output.slice(-5000)).not.toBeNull();
      process.stdout.write(`image smoke passed in ${passed?.[1]} s\n`);
    },
    BUILD_BUDGET_MS + SMOKE_BUDGET_MS + 60_000,
  );
});
