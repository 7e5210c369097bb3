import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ImageEntry, type JobEvent, JobEventSchema, newJobRequest } from "@solstice/common";
import { EventLog, fastGuestImage, GitServer, qemuProcessesUsing } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReconnectingGuestShell } from "../src/exec/reconnecting-guest-shell.ts";
import { QemuHypervisor } from "../src/vm/qemu-vm.ts";
import { VmEngine } from "../src/vm-engine.ts";

// Steps survive a dropped SSH connection, on the fast guest (busybox ash, dropbear): the engine's
// test hook kills the connection from the host side mid-step, three times in one job (one VM
// boot); the steps go on in the guest under their supervisors, the engine reconnects and resumes
// their output by offset, and every line arrives once, in order, with the right exit codes.

let git: GitServer;
let stateDir: string;
let image: ImageEntry;
let engine: VmEngine;

beforeAll(async () => {
  git = await GitServer.start();
  stateDir = await mkdtemp(join(tmpdir(), "solstice-step-reconnect-"));
  image = await fastGuestImage();
  engine = new VmEngine({ sshTimeoutMs: 180_000, hypervisor: new QemuHypervisor({ stateDir }) });
});

afterAll(async () => {
  await git?.stop();
  const leftovers = stateDir === undefined ? [] : await qemuProcessesUsing(stateDir);
  for (const pid of leftovers) process.kill(pid, "SIGKILL");
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  expect(leftovers).toEqual([]);
});

const numbered = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix} ${i + 1}`);

describe("a step whose SSH connection drops", () => {
  it("goes on in the guest; the engine reconnects and resumes: every line once, in order, the right exit codes", async () => {
    const repo = await git.createRepo("reconnect", { "README.md": "x\n" });
    const log = new EventLog();
    let shell: ReconnectingGuestShell | undefined;
    // Drop the connection when these lines arrive (the second drop of step 0 can only come after
    // the first reconnection delivered line 20).
    const dropAt = new Set(["stdout: line 5", "stdout: line 20", "stdout: fail 5"]);
    const drops: string[] = [];
    const sink = (event: JobEvent): void => {
      log.sink(event);
      if (event.type !== "log") return;
      for (const text of event.text.split("\n")) {
        const line = `${event.stream}: ${text}`;
        if (dropAt.delete(line)) {
          drops.push(line);
          shell?.dropConnection();
        }
      }
    };
    const result = await engine.runJob(
      newJobRequest({
        source: "manual",
        repo_url: repo.guestUrl,
        commit_sha: repo.sha,
        steps: [
          {
            name: "Counted",
            run: 'i=1\nwhile [ "$i" -le 40 ]; do echo "line $i"; sleep 0.1; i=$((i + 1)); done',
          },
          {
            name: "Failing",
            run: 'i=1\nwhile [ "$i" -le 20 ]; do echo "fail $i"; echo "warn $i" >&2; sleep 0.1; i=$((i + 1)); done\nprintf "no newline"\nexit 7',
          },
        ],
      }),
      image,
      {
        sink,
        onGuestShell: (connected) => {
          shell = connected;
        },
      },
    );

    for (const event of log.events) JobEventSchema.parse(event);
    expect(log.events.map((e) => e.seq)).toEqual(log.events.map((_, i) => i));
    expect(drops).toEqual(["stdout: line 5", "stdout: line 20", "stdout: fail 5"]);
    expect(shell?.reconnects).toBe(3);

    expect(result.conclusion).toBe("failure");
    expect(result.reason).toBe('step "Failing" exited with 7');
    expect(log.of("step_finished").map((e) => [e.step, e.conclusion, e.exit_code])).toEqual([
      [0, "success", 0],
      [1, "failure", 7],
    ]);
    const stream = (step: number, name: string): string[] =>
      log
        .lines(step)
        .filter((line) => line.startsWith(`${name}: `))
        .map((line) => line.slice(name.length + 2));
    expect(stream(0, "stdout")).toEqual(numbered("line", 40));
    expect(stream(1, "stdout")).toEqual([...numbered("fail", 20), "no newline"]);
    expect(stream(1, "stderr")).toEqual(numbered("warn", 20));
    const resumed =
      "the SSH connection to the VM dropped; reconnected, the step goes on and its output resumes";
    expect(stream(0, "system").filter((line) => line === resumed)).toHaveLength(2);
    expect(stream(1, "system").filter((line) => line === resumed)).toHaveLength(1);
    expect(result.vm?.state).toBe("destroyed");
  });
});
