import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { qemuProcessesUsing } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CIDEV_MAIN, REPO_ROOT, runCidev } from "./cli-support.ts";

// `cidev run`'s act-like flags for real, on the fast test guest: several jobs in `needs` order
// with outputs passed along, a chosen matrix row, a masked secret, vars, the event; `--json`;
// stopping after a failure unless --keep-going; a terminal's Ctrl-C (SIGINT to the process group,
// through `pnpm cidev`) while the orchestrator starts and while the VM boots. Three VM boots in all.

const run = promisify(execFile);
const SECRET = "hunter2-very-secret";

const WORKFLOW = `name: Flags
on: [push, pull_request]
jobs:
  build:
    runs-on: fast
    strategy:
      matrix:
        v: [1, 2]
    outputs:
      tag: \${{ steps.meta.outputs.tag }}
    steps:
      - id: meta
        run: |
          echo "secret is \${{ secrets.TOKEN }}"
          echo "tag=v\${{ matrix.v }}-\${{ vars.CHANNEL }}" >> "$GITHUB_OUTPUT"
  test:
    needs: build
    runs-on: fast
    steps:
      - run: echo "got \${{ needs.build.outputs.tag }} on \${{ github.event_name }} from $FROM_FLAG"
  only-on-push:
    if: github.event_name == 'push'
    runs-on: fast
    steps:
      - run: echo never
`;

const FAILING = `on: push
jobs:
  first:
    runs-on: fast
    steps:
      - run: exit 5
  second:
    runs-on: fast
    steps:
      - run: echo second
`;

let repo: string;

async function gitRepo(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cidev-vm-flags-"));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  const git = (...args: string[]) =>
    run("git", ["-c", "user.name=T", "-c", "user.email=t@example.invalid", ...args], { cwd: dir });
  await git("init", "-q");
  await git("add", "-A");
  await git("commit", "-qm", "init");
  return dir;
}

/**
 * Starts `cidev run args…` (`pnpm cidev run args…` with `viaPnpm`) as a terminal would: in a
 * process group of its own (pnpm, node, and whatever they start), so `interrupt()` is a terminal's
 * Ctrl-C: SIGINT to the whole group. `waitFor(re)` resolves once stderr+stdout match.
 */
function startCidev(args: readonly string[], viaPnpm: boolean) {
  const [command, commandArgs] = viaPnpm
    ? ["pnpm", ["--silent", "cidev", "run", ...args]]
    : [process.execPath, ["--conditions=@solstice/source", CIDEV_MAIN, "run", ...args]];
  const child = spawn(command, commandArgs, {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => {
    output += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    // pnpm, interrupted too, waits for cidev and then ends by the same signal: a shell shows
    // 128+2. "close": after cidev (which holds the pipes too) has exited.
    child.once("close", (code, signal) => resolve(viaPnpm && signal === "SIGINT" ? 130 : code)),
  );
  return {
    child,
    exited,
    output: () => output,
    interrupt: () => process.kill(-child.pid!, "SIGINT"),
    async waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (child.exitCode !== null || Date.now() > deadline) {
          process.kill(-child.pid!, "SIGKILL");
          throw new Error(`never saw ${pattern}:\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

beforeAll(async () => {
  await run("bash", [join(REPO_ROOT, "scripts/build-test-guests.sh"), "fast"], { timeout: 600_000 });
  repo = await gitRepo({ ".github/workflows/flags.yml": WORKFLOW });
});
afterAll(async () => {
  if (repo !== undefined) await rm(repo, { recursive: true, force: true });
});

describe("cidev run flags", () => {
  test("--all-jobs in needs order, outputs passed along, --matrix row, masked --secret, --var, --event, --env, --json", {
    timeout: 420_000,
  }, async () => {
    const r = await runCidev(
      [
        "run",
        repo,
        "--all-jobs",
        "--matrix",
        "v=2",
        "--secret",
        `TOKEN=${SECRET}`,
        "--var",
        "CHANNEL=beta",
        "--event",
        "pull_request",
        "--env",
        "FROM_FLAG=the-flag",
        "--json",
      ],
      { timeoutMs: 400_000 },
    );
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stderr).not.toContain(SECRET);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const started = lines.filter((l) => l["type"] === "run_started");
    expect(started.map((l) => [l["job"], l["matrix"]])).toEqual([
      ["build", { v: 2 }],
      ["test", {}],
    ]);
    const logText = (job: string) =>
      lines
        .filter((l) => l["type"] === "log" && l["job"] === job && l["stream"] !== "system")
        .map((l) => l["text"])
        .join("\n");
    expect(logText("build")).toContain("secret is ***");
    expect(logText("test")).toContain("got v2-beta on pull_request from the-flag");
    expect(lines).toContainEqual(
      expect.objectContaining({
        type: "run_skipped",
        job: "only-on-push",
        reason: "its if: condition is false",
      }),
    );
    const summary = lines.at(-1)!;
    expect(summary).toMatchObject({
      type: "summary",
      result: "success",
      runs: [
        { job: "build", matrix: { v: 2 }, result: "success", outputs: { tag: "v2-beta" } },
        { job: "test", matrix: {}, result: "success" },
        { job: "only-on-push", result: "skipped" },
      ],
    });
    expect(r.code).toBe(0);
  });

  test("a failed job stops the run (the rest not started, exit 1) unless --keep-going", {
    timeout: 320_000,
  }, async () => {
    const failing = await gitRepo({ ".github/workflows/fail.yml": FAILING });
    try {
      const r = await runCidev(["run", failing, "--all-jobs"], { timeoutMs: 300_000 });
      expect(r.stdout).toMatch(/Job failed after .*exited with 5/);
      expect(r.stdout).toMatch(
        /Summary\n {2}first +failure.*\n {2}second +not_started \(an earlier job failed\)/,
      );
      expect(r.stdout).not.toContain("Running job second");
      expect(r.code).toBe(1);
    } finally {
      await rm(failing, { recursive: true, force: true });
    }
  });

  test("a terminal's Ctrl-C while the orchestrator starts: nothing boots, exit 130; through pnpm cidev while the VM boots: cancelled, 130", {
    timeout: 480_000,
  }, async () => {
    const early = startCidev([repo, "--job", "test"], false);
    await early.waitFor(/Starting the embedded orchestrator/, 120_000);
    early.interrupt();
    expect(await early.exited).toBe(130);
    expect(early.output()).not.toContain("Running job");

    const booting = startCidev([repo, "--job", "test"], true);
    await booting.waitFor(/VM started/, 240_000);
    const vmName = /job-[0-9a-f-]{36}/.exec(booting.output())?.[0];
    expect(vmName).toBeDefined();
    const pressed = Date.now();
    booting.interrupt();
    expect(await booting.exited).toBe(130);
    const tookMs = Date.now() - pressed;
    console.log(`Ctrl-C while the VM boots: cidev exited ${tookMs} ms after it`);
    expect(booting.output()).toMatch(/Job cancelled after/);
    expect(booting.output()).not.toContain("got ");
    // The group's SIGINT did not reach git daemon (its own group): no failed fetch, no stack trace.
    expect(booting.output()).not.toMatch(/"stack"|fatal: unable to connect|remote end hung up/);
    expect(await qemuProcessesUsing(vmName!)).toEqual([]);
  });
});
