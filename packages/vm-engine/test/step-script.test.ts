import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FollowFrameParser } from "../src/exec/follow-frames.ts";
import { guestLayout, resolveWorkingDirectory } from "../src/exec/guest-layout.ts";
import {
  renderKillCommand,
  renderShellCommand,
  renderStepCommand,
  renderStepFiles,
  type StepFiles,
  type StepOutputOffsets,
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

  interface Followed {
    /** The step's exit status (undefined when the follower ended without it). */
    code: number | undefined;
    stdout: string;
    stderr: string;
    offsets: StepOutputOffsets;
    /** The follower's own exit code. */
    followerCode: number | null;
  }

  /** Runs the step's SSH command with the host's /bin/sh and decodes its frames. */
  function follow(
    files: StepFiles,
    offsets: StepOutputOffsets = { stdout: 0, stderr: 0 },
    onOutput?: (text: string, kill: () => void) => void,
  ): Promise<Followed> {
    const child = spawn("/bin/sh", ["-c", renderStepCommand(files, offsets)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const parser = new FollowFrameParser(offsets);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => {
      for (const event of parser.push(chunk)) {
        if (event.type !== "output") continue;
        (event.stream === "stdout" ? out : err).push(event.data);
        onOutput?.(Buffer.concat(out).toString(), () => child.kill("SIGKILL"));
      }
    });
    let followerStderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      followerStderr += chunk.toString();
    });
    return new Promise((resolve) => {
      child.on("close", (followerCode) => {
        expect(followerStderr).toBe("");
        resolve({
          code: parser.exitCode,
          stdout: Buffer.concat(out).toString(),
          stderr: Buffer.concat(err).toString(),
          offsets: parser.offsets,
          followerCode,
        });
      });
    });
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
    const result = await follow(files);
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
    const result = await follow(files);
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
    const result = await follow(files);
    expect(result.code).toBe(1);
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
    const running = follow(files);
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

  it("the step outlives its follower: a second one resumes from the offsets, every byte once, the step started once", async () => {
    const counter = join(home, "started-count");
    const files = renderStepFiles(layout(), {
      index: 4,
      run: [
        `echo run >>${counter}`,
        "i=1",
        'while [ "$i" -le 30 ]; do echo "line $i"; echo "err $i" >&2; sleep 0.03; i=$((i + 1)); done',
        "printf 'no newline at the end'",
        "exit 3",
      ].join("\n"),
      env: {},
      shellTemplate: "sh -e {0}",
      workingDirectory: undefined,
    });
    await install(files);
    // The first follower dies (as with a dropped SSH connection) after line 5.
    const first = await follow(files, undefined, (text, kill) => {
      if (text.includes("line 5\n")) kill();
    });
    expect(first.code).toBeUndefined();
    expect(first.stdout).toContain("line 5\n");
    expect(first.stdout).not.toContain("line 30");
    const second = await follow(files, first.offsets);
    expect(second.code).toBe(3);
    const numbered = (prefix: string) =>
      Array.from({ length: 30 }, (_, i) => `${prefix} ${i + 1}\n`).join("");
    expect(first.stdout + second.stdout).toBe(`${numbered("line")}no newline at the end`);
    expect(first.stderr + second.stderr).toBe(numbered("err"));
    // Following again after the end sends nothing but the status; the step ran once.
    const third = await follow(files, second.offsets);
    expect(third).toMatchObject({ code: 3, stdout: "", stderr: "", offsets: second.offsets });
    expect(await readFile(counter, "utf8")).toBe("run\n");
  }, 20_000);

  it("reads from any offset by seeking whole blocks: a large output resumed mid-block gives exactly its rest", async () => {
    const files = renderStepFiles(layout(), {
      index: 5,
      run: "i=0\nwhile [ $i -lt 2000 ]; do printf '%0100d\\n' $i; i=$((i + 1)); done",
      env: {},
      shellTemplate: "sh -e {0}",
      workingDirectory: undefined,
    });
    await install(files);
    const whole = await follow(files);
    expect(whole.code).toBe(0);
    expect(whole.stdout.length).toBe(2000 * 101);
    for (const offset of [1, 4095, 4096, 4097, 123_457, 2000 * 101 - 1, 2000 * 101]) {
      const rest = await follow(files, { stdout: offset, stderr: 0 });
      expect(rest.code).toBe(0);
      expect(rest.stdout === whole.stdout.slice(offset)).toBe(true);
    }
  }, 30_000);

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
