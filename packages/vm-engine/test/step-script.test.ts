import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guestLayout, resolveWorkingDirectory } from "../src/exec/guest-layout.ts";
import {
  renderKillCommand,
  renderShellCommand,
  renderStepFiles,
  type StepFiles,
  shellTemplate,
} from "../src/exec/step-script.ts";

// The generated files are run here by the host's /bin/sh, as a guest's /bin/sh would run them.

describe("shellTemplate", () => {
  it.each([
    [undefined, "sh -e {0}"],
    ["sh", "sh -e {0}"],
    [" bash ", "bash -e {0}"],
    ["python", "python {0}"],
    ["ksh -e {0}", "ksh -e {0}"],
    ["perl {0} --x", "perl {0} --x"],
  ])("%j -> %j", (shell, template) => {
    expect(shellTemplate(shell)).toEqual({ template });
  });

  it("refuses an unknown shell without {0}", () => {
    expect(shellTemplate("zsh")).toEqual({ error: expect.stringContaining('unsupported shell "zsh"') });
  });

  it("puts the quoted script path in every {0}", () => {
    expect(renderShellCommand("x {0} {0}", "/a b/s.sh")).toBe("x '/a b/s.sh' '/a b/s.sh'");
  });
});

describe("guest layout", () => {
  it("puts the workspace and run directory under the home", () => {
    expect(guestLayout("/root/")).toEqual({
      home: "/root",
      workspace: "/root/work",
      runDir: "/root/.solstice-run",
    });
    expect(() => guestLayout("relative")).toThrow(TypeError);
  });

  it.each([
    [undefined, "/home/u/work"],
    ["", "/home/u/work"],
    ["src/app", "/home/u/work/src/app"],
    ["./src/../lib", "/home/u/work/lib"],
    ["/opt/x", "/opt/x"],
  ])("working directory %j -> %j", (dir, expected) => {
    expect(resolveWorkingDirectory(guestLayout("/home/u"), dir)).toBe(expected);
  });
});

describe("step files run by /bin/sh", () => {
  let home: string;
  const layout = () => guestLayout(home);

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "solstice-step-script-"));
    await mkdir(layout().runDir, { recursive: true });
    await mkdir(join(layout().workspace, "sub dir"), { recursive: true });
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  async function install(files: StepFiles): Promise<void> {
    await writeFile(files.scriptPath, files.scriptContent, { mode: 0o755 });
    await writeFile(files.launcherPath, files.launcherContent, { mode: 0o755 });
  }

  async function runCommand(
    command: string,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn("/bin/sh", ["-c", command], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    return { code, stdout, stderr };
  }

  it("runs the step in its working directory with its env, and returns its exit status", async () => {
    const files = renderStepFiles(layout(), {
      index: 0,
      run: 'echo "dir=$(pwd)"\necho "greeting=$GREETING"\necho oops >&2\nexit 7',
      env: { GREETING: "it's $HOME" },
      shellTemplate: "sh -e {0}",
      workingDirectory: "sub dir",
    });
    await install(files);
    const result = await runCommand(files.command);
    expect(result.code).toBe(7);
    expect(result.stdout).toBe(`dir=${join(home, "work", "sub dir")}\ngreeting=it's $HOME\n`);
    expect(result.stderr).toBe("oops\n");
    const pid = Number((await readFile(files.pidFile, "utf8")).trim());
    expect(pid).toBeGreaterThan(1);
  });

  it("runs sh with -e: the first failing command ends the step", async () => {
    const files = renderStepFiles(layout(), {
      index: 1,
      run: "false\necho not reached",
      env: {},
      shellTemplate: "sh -e {0}",
      workingDirectory: undefined,
    });
    await install(files);
    const result = await runCommand(files.command);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
  });

  it("fails clearly when the working directory is missing", async () => {
    const files = renderStepFiles(layout(), {
      index: 2,
      run: "echo no",
      env: {},
      shellTemplate: "sh -e {0}",
      workingDirectory: "missing",
    });
    await install(files);
    const result = await runCommand(files.command);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`cannot enter working directory ${join(home, "work", "missing")}`);
  });

  it("the kill command ends the step's whole process group, children included", async () => {
    const marker = `solstice-test-sleeper-${process.pid}`;
    const files = renderStepFiles(layout(), {
      index: 3,
      // A child in the background and one in the foreground, both in the step's process group.
      run: `bash -c 'exec -a ${marker} sleep 300' &\nbash -c 'exec -a ${marker} sleep 300'\n`,
      env: {},
      shellTemplate: "bash -e {0}",
      workingDirectory: undefined,
    });
    await install(files);
    const running = runCommand(files.command);
    let pid = "";
    for (let i = 0; i < 100 && !pid; i++) {
      await sleep(50);
      pid = (await readFile(files.pidFile, "utf8").catch(() => "")).trim();
    }
    // Wait until both sleepers run.
    for (let i = 0; i < 100 && countSleepers(marker) < 2; i++) await sleep(50);
    expect(countSleepers(marker)).toBe(2);
    const kill = await promisify(execFile)("/bin/sh", ["-c", renderKillCommand(files.pidFile, "TERM")]);
    expect(kill.stderr).toBe("");
    const result = await running;
    expect(result.code).toBe(143);
    for (let i = 0; i < 40 && countSleepers(marker) > 0; i++) await sleep(50);
    expect(countSleepers(marker)).toBe(0);
  }, 20_000);

  it("the kill command is silent when the step is gone", async () => {
    const result = await promisify(execFile)("/bin/sh", [
      "-c",
      renderKillCommand(join(home, "nope.pid"), "KILL"),
    ]);
    expect(result.stdout + result.stderr).toBe("");
  });
});

function countSleepers(marker: string): number {
  const out = execFileSync("ps", ["-eo", "args="], { encoding: "utf8" });
  return out.split("\n").filter((line) => line.startsWith(marker)).length;
}
