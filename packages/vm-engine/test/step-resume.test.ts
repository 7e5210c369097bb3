import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import type { JobEvent } from "@solstice/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshReconnectError } from "../src/errors.ts";
import { type GuestLayout, guestLayout } from "../src/exec/guest-layout.ts";
import { JobEventEmitter } from "../src/exec/job-events.ts";
import { ReconnectingGuestShell } from "../src/exec/reconnecting-guest-shell.ts";
import { renderStep, runStep } from "../src/exec/step-runner.ts";
import { renderKillCommand } from "../src/exec/step-script.ts";
import { LocalGuestShell } from "../src/local/local-guest-shell.ts";

// Steps that outlive their connection, on the local backend: closing a LocalGuestShell kills the
// commands it runs (the step's follower), as a dropped SSH connection ends its channels, while the
// step goes on under its detached supervisor. ReconnectingGuestShell makes a new shell and the
// step runner resumes the output from its offsets. (The same over real SSH: step-reconnect.vm.test.ts.)

const REQUEST_ID = "2b0f3c1e-8a7d-4c52-9f3e-1d2c3b4a5f60";
let dir: string;
let layout: GuestLayout;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "solstice-step-resume-"));
  layout = guestLayout(join(dir, "home"));
  await mkdir(layout.runDir, { recursive: true });
  await mkdir(layout.workspace, { recursive: true });
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function stepFiles(index: number, run: string) {
  const rendered = renderStep({ index, step: { run }, env: {}, layout });
  if ("error" in rendered) throw new Error(rendered.error);
  return rendered.files;
}

/** Events of a step, and a hook called with every line (`stream: text`). */
function recorder(onLine: (line: string) => void = () => undefined) {
  const events: JobEvent[] = [];
  const emitter = new JobEventEmitter(REQUEST_ID, (event) => {
    events.push(event);
    if (event.type === "log") for (const text of event.text.split("\n")) onLine(`${event.stream}: ${text}`);
  });
  const lines = (stream: string) =>
    events
      .filter((e): e is Extract<JobEvent, { type: "log" }> => e.type === "log" && e.stream === stream)
      .flatMap((e) => e.text.split("\n"));
  return { emitter, lines };
}

const COUNTED =
  'i=1\nwhile [ "$i" -le 30 ]; do echo "line $i"; echo "warn $i" >&2; sleep 0.03; i=$((i + 1)); done\nprintf tail\nexit 3';
const numbered = (prefix: string) => Array.from({ length: 30 }, (_, i) => `${prefix} ${i + 1}`);

describe("a step whose connection drops", () => {
  it("goes on; the runner resumes on a new connection: every line once, in order, the exit status", async () => {
    const home = layout.home;
    const first = new LocalGuestShell(home);
    let connects = 0;
    const shell = new ReconnectingGuestShell(
      first,
      async () => {
        connects += 1;
        return new LocalGuestShell(home);
      },
      { firstDelayMs: 0 },
    );
    const files = stepFiles(0, COUNTED);
    await Promise.all([
      shell.upload(files.scriptPath, files.scriptContent, 0o755),
      shell.upload(files.launcherPath, files.launcherContent, 0o755),
    ]);
    const { emitter, lines } = recorder((line) => {
      if (line === "stdout: line 5") void first.close();
    });
    const outcome = await runStep(shell, emitter, { index: 0, files, uploaded: Promise.resolve() });
    expect(outcome).toMatchObject({ conclusion: "failure", exitCode: 3, reason: "exited with 3" });
    expect(lines("stdout")).toEqual([...numbered("line"), "tail"]);
    expect(lines("stderr")).toEqual(numbered("warn"));
    expect(lines("system")).toEqual([
      "the SSH connection to the VM dropped; reconnected, the step goes on and its output resumes",
    ]);
    expect(connects).toBe(1);
    expect(shell.reconnects).toBe(1);
    await shell.close();
  }, 20_000);

  it("fails the step clearly when no new connection comes within the budget", async () => {
    const home = layout.home;
    const first = new LocalGuestShell(home);
    const shell = new ReconnectingGuestShell(
      first,
      async () => {
        throw new Error("connection refused");
      },
      { timeoutMs: 1000, firstDelayMs: 0 },
    );
    const files = stepFiles(1, COUNTED);
    await first.upload(files.scriptPath, files.scriptContent, 0o755);
    await first.upload(files.launcherPath, files.launcherContent, 0o755);
    const { emitter, lines } = recorder((line) => {
      if (line === "stdout: line 2") void first.close();
    });
    const outcome = await runStep(shell, emitter, { index: 1, files, uploaded: Promise.resolve() });
    const reason =
      "the SSH connection to the VM dropped and was not re-established: no new connection within 1 s: connection refused";
    expect(outcome).toMatchObject({ conclusion: "failure", exitCode: null, reason });
    expect(lines("system")).toEqual([reason]);
    // The step itself went on (nothing killed it); end it.
    await promisify(execFile)("/bin/sh", ["-c", renderKillCommand(files.pidFile, "KILL")]);
  }, 20_000);
});

describe("a step whose follower dies while the connection stays up", () => {
  it("fails with the reason, and its process group is killed rather than left to overlap the next step", async () => {
    const shell = new LocalGuestShell(layout.home);
    // The step kills its follower: the supervisor's parent (the follower started it).
    const files = stepFiles(2, 'kill -9 "$(ps -o ppid= -p "$PPID" | tr -d " ")"\necho still here\nsleep 30');
    await shell.upload(files.scriptPath, files.scriptContent, 0o755);
    await shell.upload(files.launcherPath, files.launcherContent, 0o755);
    const { emitter, lines } = recorder();
    const outcome = await runStep(shell, emitter, { index: 2, files, uploaded: Promise.resolve() });
    expect(outcome.conclusion).toBe("failure");
    expect(outcome.exitCode).toBeNull();
    expect(outcome.reason).toMatch(/^the step's follower ended without its exit status \(signal KILL\)$/);
    expect(lines("system")).toEqual([outcome.reason]);
    // Killed: its supervisor records the SIGKILL (128 + 9) long before the step's sleep would end.
    let status = "";
    for (let i = 0; i < 100 && status === ""; i++) {
      status = await readFile(files.statusFile, "utf8").catch(() => "");
      if (status === "") await sleep(50);
    }
    expect(status).toBe("137\n");
    await shell.close();
  }, 20_000);
});

describe("ReconnectingGuestShell", () => {
  it("shares one attempt between callers, runs later commands on the new connection, and stops at maxReconnects", async () => {
    const home = layout.home;
    const shells: LocalGuestShell[] = [new LocalGuestShell(home)];
    const shell = new ReconnectingGuestShell(
      shells[0] as LocalGuestShell,
      async () => {
        const next = new LocalGuestShell(home);
        shells.push(next);
        return next;
      },
      { maxReconnects: 1, firstDelayMs: 0 },
    );
    await shell.reconnect(); // up: nothing to do
    expect(shells).toHaveLength(1);
    await shells[0]?.close();
    expect(shell.closed).toBe(true);
    await Promise.all([shell.reconnect(), shell.reconnect()]);
    expect(shells).toHaveLength(2);
    expect(shell.closed).toBe(false);
    expect((await shell.run("echo again")).stdout).toBe("again\n");

    await shells[1]?.close();
    // A command on a dropped connection reconnects first; past the bound it fails clearly.
    const error = await shell.run("echo never").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SshReconnectError);
    expect((error as SshReconnectError).code).toBe("ORCH_SSH_RECONNECT");
    expect((error as Error).message).toContain("more than the 1 reconnections a job may make");
    expect(shells).toHaveLength(2);
    await shell.close();
    await expect(shell.reconnect()).rejects.toThrow("the shell was closed");
  });
});
