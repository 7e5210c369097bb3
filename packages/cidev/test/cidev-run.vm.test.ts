import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  childrenOf,
  drawTree,
  OtlpReceiver,
  qemuProcessesUsing,
  type ReceivedSpan,
} from "@solstice/test-support";
import { beforeAll, describe, expect, test } from "vitest";
import { CIDEV_MAIN, REPO_ROOT, runCidev } from "./cli-support.ts";

// `cidev run` for real: the fast test guest boots under QEMU through the embedded orchestrator.
// One passing job (the README's quick start, examples/hello) and one failing job kept up with
// --keep-on-failure, entered with the SSH command cidev prints, then ended with Ctrl-C.

const run = promisify(execFile);

beforeAll(async () => {
  // Builds the fast guest when missing (cached: a fraction of a second).
  await run("bash", [join(REPO_ROOT, "scripts/build-test-guests.sh"), "fast"], { timeout: 600_000 });
});

describe("cidev run", () => {
  test("the quick start: examples/hello passes; exit 0, a header and a result per step; its trace rooted at cidev run", async () => {
    const otlp = await OtlpReceiver.start();
    const r = await runCidev(["run", "examples/hello"], {
      timeoutMs: 280_000,
      env: otlp.exporterEnv(200),
    });
    await otlp.close();
    expect(r.stdout).toContain("==> Step 1/3: Where am I");
    expect(r.stdout).toMatch(/^Linux job-[0-9a-f-]+ /m);
    expect(r.stdout).toContain("==> Step 3/3: Run the example's script");
    expect(r.stdout).toContain("Hello from a Solstice CI VM");
    expect(r.stdout).toMatch(/<== Step 3\/3: Run the example's script: success \(exit 0, [\d.]+ s\)/);
    expect(r.stdout).toMatch(/Job succeeded in /);
    expect(r.code).toBe(0);
    // One trace: `cidev run` at its root, the embedded orchestrator's job and its three steps under it.
    const roots = otlp.spans.filter((s) => s.name === "cidev run");
    expect(roots, drawTree(otlp.spans)).toHaveLength(1);
    const trace = otlp.trace(roots[0]!.traceId);
    const descendants = (span: ReceivedSpan): ReceivedSpan[] =>
      childrenOf(trace, span).flatMap((child) => [child, ...descendants(child)]);
    const under = descendants(roots[0]!).map((s) => s.name);
    expect(under, drawTree(trace)).toContain("orchestrator job");
    expect(
      under.filter((name) => name === "step"),
      drawTree(trace),
    ).toHaveLength(3);
    expect(roots[0]!.service).toBe("cidev");
  });

  test("a workflow written for the original (KDL 1) validates and runs unchanged", async () => {
    const repo = await mkdtemp(join(tmpdir(), "cidev-vm-kdl1-"));
    const git = (...args: string[]) =>
      run("git", ["-c", "user.name=T", "-c", "user.email=t@example.invalid", ...args], { cwd: repo });
    try {
      await mkdir(join(repo, ".solstice"));
      // KDL 1 only: a raw string with quotes and a `\n` kept as written, bare booleans, a string
      // over two lines; KDL 2 rejects it, so the reader falls back to KDL 1.
      await writeFile(
        join(repo, ".solstice/workflow.kdl"),
        String.raw`// as the original's users wrote it
workflow name="Legacy" {
  job id="legacy" runs_on="fast" debug_ssh=false {
    step name="Raw" run=r#"printf '%s\n' "quoted \n kept""#
    step name="Allowed to fail" run="exit 4" continue_on_error=true
    step name="Lines" run="echo one
echo two"
  }
}
`,
      );
      await git("init", "-q");
      await git("add", "-A");
      await git("commit", "-qm", "init");

      const validate = await runCidev(["validate", "--kdl-version", repo]);
      expect(validate.stdout).toContain("KDL workflow 'Legacy' with 1 job, read as KDL 1");
      expect(validate.code).toBe(0);

      const r = await runCidev(["run", repo], { timeoutMs: 280_000 });
      expect(r.stdout).toContain("==> Step 1/3: Raw");
      expect(r.stdout).toMatch(/^quoted \\n kept$/m);
      expect(r.stdout).toMatch(/<== Step 2\/3: Allowed to fail: failure \(exit 4, /);
      expect(r.stdout).toMatch(/^one$/m);
      expect(r.stdout).toMatch(/^two$/m);
      expect(r.stdout).toMatch(/Job succeeded in /);
      expect(r.code).toBe(0);
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });

  test("a failing job exits 1; --keep-on-failure keeps its VM, the printed SSH command gets in, Ctrl-C ends it", async () => {
    const repo = await mkdtemp(join(tmpdir(), "cidev-vm-repo-"));
    const git = (...args: string[]) =>
      run("git", ["-c", "user.name=T", "-c", "user.email=t@example.invalid", ...args], { cwd: repo });
    try {
      await mkdir(join(repo, ".solstice"));
      await writeFile(
        join(repo, ".solstice/workflow.kdl"),
        `workflow {
  job id="broken" runs_on="fast" {
    step name="Greet" run="echo hello"
    step name="Fail" run="echo about to fail >&2; exit 3"
    step name="Never" run="echo never"
  }
}
`,
      );
      await git("init", "-q");
      await git("add", "-A");
      await git("commit", "-qm", "init");
      // Not committed: the guest must see it all the same (the work tree's snapshot).
      await writeFile(join(repo, "uncommitted.txt"), "from the work tree\n");

      const child = spawn(
        process.execPath,
        ["--conditions=@solstice/source", CIDEV_MAIN, "run", repo, "--keep-on-failure", "--keep-for", "240"],
        { env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
      });
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      const deadline = Date.now() + 280_000;
      while (!/^\s+ssh -i .*$/m.test(stdout)) {
        if (child.exitCode !== null || Date.now() > deadline) {
          child.kill("SIGKILL");
          throw new Error(`no SSH command printed:\n${stdout}\n${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(stdout).toContain("==> Step 2/3: Fail");
      expect(stdout).toMatch(/<== Step 2\/3: Fail: failure \(exit 3, /);
      expect(stdout).toContain("--- Step 3/3: Never: skipped");
      expect(stdout).toMatch(/Job failed after .*: step "Fail" exited with 3/);
      const vmName = /job-[0-9a-f-]{36}/.exec(stdout)?.[0];
      expect(vmName).toBeDefined();

      const command = /^\s+(ssh -i .*)$/m.exec(stdout)![1]!;
      const args = command.split(" ").slice(1);
      const key = args[args.indexOf("-i") + 1]!;
      expect((await stat(key)).mode & 0o777).toBe(0o600);
      const inside = await run(
        "ssh",
        ["-o", "BatchMode=yes", "-o", "ConnectTimeout=30", ...args, "cat work/uncommitted.txt; hostname"],
        {
          timeout: 60_000,
        },
      );
      expect(inside.stdout).toContain("from the work tree");
      expect(inside.stdout).toContain(vmName);

      child.kill("SIGINT");
      expect(await exited).toBe(1);
      expect(await qemuProcessesUsing(vmName!)).toEqual([]);
      await expect(stat(key)).rejects.toMatchObject({ code: "ENOENT" });
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });
});
