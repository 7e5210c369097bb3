import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ImageEntry } from "@solstice/common";
import { type JobEvent, JobEventSchema, type JobRequest, newJobRequest } from "@solstice/common";
import { EventLog, fastGuestImage, GitServer, qemuProcessesUsing } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GuestUnreachableError, VmImageMissingError } from "../src/errors.ts";
import { QemuHypervisor } from "../src/vm/qemu-vm.ts";
import { isLoopbackPortFree } from "../src/vm/ssh-port-allocator.ts";
import type { VmHandle } from "../src/vm/vm-types.ts";
import { type JobRunResult, VmEngine } from "../src/vm-engine.ts";

// The VM engine end to end with real QEMU (TCG here) and the fast test guest: a git repository
// served by the test, jobs run through VmEngine.runJob, and after each job: no QEMU process, no
// file, no reserved or bound port.

let git: GitServer;
let stateDir: string;
let image: ImageEntry;
let hypervisor: QemuHypervisor;
let engine: VmEngine;

beforeAll(async () => {
  git = await GitServer.start();
  stateDir = await mkdtemp(join(tmpdir(), "solstice-vm-engine-"));
  image = await fastGuestImage();
  hypervisor = new QemuHypervisor({ stateDir });
  engine = new VmEngine({ sshTimeoutMs: 180_000, hypervisor });
});

afterAll(async () => {
  await git?.stop();
  const leftovers = stateDir === undefined ? [] : await qemuProcessesUsing(stateDir);
  for (const pid of leftovers) process.kill(pid, "SIGKILL");
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  expect(leftovers).toEqual([]);
});

function request(fields: Partial<JobRequest> & { repo_url: string; commit_sha: string }): JobRequest {
  return newJobRequest({ source: "manual", ...fields });
}

/** Nothing of the VM outlives the job: no QEMU, no work directory, no port held or bound. */
async function expectNothingLeft(vm: VmHandle | undefined): Promise<void> {
  expect(await qemuProcessesUsing(stateDir)).toEqual([]);
  expect(await readdir(stateDir)).toEqual([]);
  if (vm === undefined) return;
  expect(vm.state).toBe("destroyed");
  expect(vm.credentials.held).toBe(false);
  expect(hypervisor.ports.reserved()).not.toContain(vm.sshPort);
  expect(await isLoopbackPortFree(vm.sshPort)).toBe(true);
}

/** Every event is valid, `seq` runs 0..n-1 without a gap, and job_finished is last. */
function expectWellFormed(events: readonly JobEvent[]): void {
  for (const event of events) JobEventSchema.parse(event);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  expect(events.at(-1)?.type).toBe("job_finished");
  expect(events.filter((e) => e.type === "job_finished")).toHaveLength(1);
}

describe("VmEngine.runJob with the fast guest", () => {
  it("checks out the commit, runs the steps in order and stops at the failing one", async () => {
    const repo = await git.createRepo("happy", { "README.md": "hello from the repository\n" });
    const log = new EventLog();
    const req = request({
      repo_url: repo.guestUrl,
      commit_sha: repo.sha,
      env: { WHO: "job" },
      steps: [
        {
          name: "Greet",
          run: 'echo "hello $WHO"\ncat README.md\necho "to stderr" >&2\ngit rev-parse HEAD\npwd',
          env: { WHO: "world" },
        },
        { name: "Fail", run: "echo about to fail\nexit 3" },
        { name: "Never", run: "echo should not run" },
      ],
    });
    const result = await engine.runJob(req, image, { sink: log.sink });

    expect(result.conclusion).toBe("failure");
    expect(result.reason).toBe('step "Fail" exited with 3');
    expectWellFormed(log.events);

    expect(log.of("step_started").map((e) => [e.step, e.name])).toEqual([
      [0, "Greet"],
      [1, "Fail"],
    ]);
    expect(log.of("step_finished").map((e) => [e.step, e.conclusion, e.exit_code])).toEqual([
      [0, "success", 0],
      [1, "failure", 3],
      [2, "skipped", null],
    ]);
    // Per stream, lines keep their order; each line carries its step index.
    const step0 = log.lines(0);
    expect(step0.filter((l) => l.startsWith("stdout:"))).toEqual([
      "stdout: hello world",
      "stdout: hello from the repository",
      `stdout: ${repo.sha}`,
      "stdout: /root/work",
    ]);
    expect(step0.filter((l) => l.startsWith("stderr:"))).toEqual(["stderr: to stderr"]);
    expect(log.lines(1)).toEqual(["stdout: about to fail"]);
    expect(log.lines(2)).toEqual([]);
    expect(log.events.some((e) => e.type === "log" && e.text.includes("should not run"))).toBe(false);

    // Events of a step come between its step_started and step_finished.
    for (const step of [0, 1]) {
      const started = log.of("step_started").find((e) => e.step === step)!.seq;
      const finished = log.of("step_finished").find((e) => e.step === step)!.seq;
      for (const line of log.of("log").filter((e) => e.step === step)) {
        expect(line.seq).toBeGreaterThan(started);
        expect(line.seq).toBeLessThan(finished);
      }
    }

    // The boot console reached the log as system lines, and stopped once SSH was up (no doubles).
    const system = log.lines(null);
    expect(system.some((line) => line.startsWith("system: solstice-guest: ssh ready"))).toBe(true);
    expect(system).toContain(`system: solstice: HEAD is now at ${repo.sha}`);
    const sshUp = log.of("log").find((e) => e.text.startsWith("SSH is up after"))!.seq;
    const consoleLines = log.of("log").filter((e) => e.text.startsWith("solstice-guest:"));
    expect(consoleLines.length).toBeGreaterThan(3);
    for (const line of consoleLines) expect(line.seq).toBeLessThan(sshUp);

    expect(result.vm?.sshPort).toBeGreaterThanOrEqual(10022);
    expect(result.vm?.sshPort).toBeLessThan(10122);
    await expectNothingLeft(result.vm);
  });

  it("carries steps' outputs, GITHUB_ENV and GITHUB_PATH to later steps, fails a step on a malformed file command, masks ::add-mask:: values, and can start with an empty workspace", async () => {
    const repo = await git.createRepo("runtime", { "README.md": "never checked out\n" });
    const log = new EventLog();
    const req = request({
      repo_url: repo.guestUrl,
      commit_sha: repo.sha,
      workspace_checkout: false,
      env: { LEVEL: "job" },
      steps: [
        {
          id: "v",
          name: "Outputs",
          run: [
            'ls -A "$GITHUB_WORKSPACE" | grep -vx lost+found | wc -l',
            '[ -d "$RUNNER_TEMP" ] && [ -w "$RUNNER_TEMP" ] && echo "temp ok"',
            'echo "version=1.2" >> "$GITHUB_OUTPUT"',
            'printf "notes<<EOF\\nfirst\\nsecond\\nEOF\\n" >> "$GITHUB_OUTPUT"',
            'echo "FROM_ENV=set-by-step-0" >> "$GITHUB_ENV"',
            'echo "LEVEL=from-github-env" >> "$GITHUB_ENV"',
            'mkdir -p "$HOME/tools" && printf "#!/bin/sh\\necho tool-ran\\n" > "$HOME/tools/mytool" && chmod +x "$HOME/tools/mytool"',
            'echo "$HOME/tools" >> "$GITHUB_PATH"',
            'echo "::add-mask::hidden-value-7"',
          ].join("\n"),
        },
        {
          name: "Use them",
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Actions expressions, rendered by the engine
          run: 'echo "version ${{ steps.v.outputs.version }} / $VIA_ENV / $FROM_ENV / $LEVEL"\nmytool\necho "secret hidden-value-7"',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression
          env: { VIA_ENV: "${{ steps.v.outputs.notes }}", LEVEL: "step" },
          runtime_expressions: ["run", "env.VIA_ENV"],
        },
        { name: "Runs", if: "steps.v.outputs.version == '1.2'", run: "echo condition-true" },
        { name: "Skipped", if: "steps.v.outcome != 'success'", run: "echo condition-false" },
        {
          id: "m",
          name: "Malformed",
          run: 'echo "ok=yes" >> "$GITHUB_OUTPUT"\necho "no equals sign" >> "$GITHUB_OUTPUT"',
          continue_on_error: true,
        },
        {
          name: "Continued",
          if: "steps.m.outcome == 'failure' && steps.m.conclusion == 'success' && steps.m.outputs.ok == 'yes'",
          run: "echo continued",
        },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression
        { name: "Bad", run: "echo ${{ steps.v.outputs.version.nope( }}", runtime_expressions: ["run"] },
      ],
    });
    const result = await engine.runJob(req, image, { sink: log.sink });
    expectWellFormed(log.events);
    expect(log.lines(0)).toEqual(["stdout: 0", "stdout: temp ok", "stdout: ::add-mask::***"]);
    expect(log.lines(1)).toEqual([
      "stdout: version 1.2 / first",
      "stdout: second / set-by-step-0 / step",
      "stdout: tool-ran",
      "stdout: secret ***",
    ]);
    expect(log.lines(2)).toEqual(["stdout: condition-true"]);
    expect(log.of("step_finished").map((e) => [e.step, e.conclusion])).toEqual([
      [0, "success"],
      [1, "success"],
      [2, "success"],
      [3, "skipped"],
      [4, "failure"],
      [5, "success"],
      [6, "failure"],
    ]);
    expect(log.of("step_finished")[0]?.outputs).toEqual({ version: "1.2", notes: "first\nsecond" });
    expect(log.of("step_finished")[4]?.outputs).toEqual({ ok: "yes" });
    expect(log.lines(4)).toEqual([
      'system: GITHUB_OUTPUT line 2: expected NAME=value or NAME<<DELIMITER, got "no equals sign"',
      'system: the step failed (could not process GITHUB_OUTPUT line 2: expected NAME=value or NAME<<DELIMITER, got "no equals sign"); continue_on_error lets the job go on',
    ]);
    expect(log.lines(5)).toEqual(["stdout: continued"]);
    expect(log.lines(6).join("\n")).toMatch(/^system: run: /);
    expect(result.conclusion).toBe("failure");
    expect(log.lines(null)).toContain(
      "system: solstice: the workspace starts empty (the job checks the repository out itself)",
    );
    await expectNothingLeft(result.vm);
  });

  it("runs two VMs at once on distinct ports, falls back to job.sh and workflow.kdl, and kills a step at its timeout", async () => {
    const withKdl = await git.createRepo("kdl", {
      ".solstice/workflow.kdl": `workflow {
  job id="other" {
    step run="echo wrong job"
  }
  job id="build" {
    env GREETING="from kdl"
    step name="Slow" run="echo going to sleep; sleep 300; echo woke up" timeout=3
    step name="Skipped" run="echo skipped"
    step name="Check" if="always()" run="echo \\"$GREETING\\"; if ps | grep -v grep | grep -q 'sleep 300'; then echo sleeper alive; else echo sleeper gone; fi"
  }
}
`,
    });
    const withScript = await git.createRepo("script", {
      ".solstice/job.sh": '+x #!/bin/sh\necho "job.sh ran in $(pwd) at $SOLSTICE_COMMIT_SHA"\n',
    });
    const kdlLog = new EventLog();
    const scriptLog = new EventLog();
    const running: VmHandle[] = [];
    const onVm = (vm: VmHandle): void => {
      if (vm.state === "running") running.push(vm);
    };
    const [kdl, script] = await Promise.all([
      engine.runJob(
        request({ repo_url: withKdl.guestUrl, commit_sha: withKdl.sha, workflow_job_id: "build" }),
        image,
        { sink: kdlLog.sink, onVm },
      ),
      engine.runJob(request({ repo_url: withScript.guestUrl, commit_sha: withScript.sha }), image, {
        sink: scriptLog.sink,
        onVm,
      }),
    ]);

    expect(running).toHaveLength(2);
    expect(running[0]!.sshPort).not.toBe(running[1]!.sshPort);
    expect(running[0]!.name).not.toBe(running[1]!.name);

    expectWellFormed(scriptLog.events);
    expect(script.conclusion).toBe("success");
    expect(scriptLog.of("step_started").map((e) => e.name)).toEqual([".solstice/job.sh"]);
    expect(scriptLog.lines(0)).toEqual([`stdout: job.sh ran in /root/work at ${withScript.sha}`]);

    expectWellFormed(kdlLog.events);
    expect(kdl.conclusion).toBe("failure");
    expect(kdl.reason).toBe('step "Slow" timed out after 3 s and was killed');
    expect(kdlLog.of("step_finished").map((e) => [e.step, e.conclusion, e.exit_code])).toEqual([
      [0, "failure", null],
      [1, "skipped", null],
      [2, "success", 0],
    ]);
    // The shell may also say "Terminated" on stderr when its sleep is killed.
    const slow = kdlLog.lines(0);
    expect(slow[0]).toBe("stdout: going to sleep");
    expect(slow.at(-1)).toBe("system: timed out after 3 s and was killed");
    expect(slow).not.toContain("stdout: woke up");
    expect(kdlLog.lines(2)).toEqual(["stdout: from kdl", "stdout: sleeper gone"]);
    expect(kdlLog.lines(null)).toContain("system: Running the steps of .solstice/workflow.kdl#build");

    await expectNothingLeft(kdl.vm);
    await expectNothingLeft(script.vm);
  });

  it("cancels a running job through its AbortSignal: the step is killed and the VM destroyed", async () => {
    const repo = await git.createRepo("cancel", { "file.txt": "x\n" });
    const log = new EventLog();
    const controller = new AbortController();
    const result: JobRunResult = await engine.runJob(
      request({
        repo_url: repo.guestUrl,
        commit_sha: repo.sha,
        steps: [
          { name: "Long", run: "echo started\nsleep 600" },
          { name: "After", run: "echo after" },
        ],
      }),
      image,
      {
        sink: (event) => {
          log.sink(event);
          if (event.type === "log" && event.text.split("\n").includes("started"))
            controller.abort(new Error("cancelled by the test"));
        },
        signal: controller.signal,
      },
    );
    expectWellFormed(log.events);
    expect(result.conclusion).toBe("cancelled");
    expect(result.reason).toBe("cancelled by the test");
    expect(log.of("job_finished")[0]).toMatchObject({
      conclusion: "cancelled",
      reason: "cancelled by the test",
    });
    // The steps after the cancel get one line between them, not a step_finished each.
    expect(log.of("step_finished").map((e) => [e.step, e.conclusion])).toEqual([[0, "cancelled"]]);
    expect(log.lines(null)).toContain("system: 1 step was not run (step 2): cancelled by the test");
    await expectNothingLeft(result.vm);
  });

  it("fails clearly on a missing image and leaves nothing behind", async () => {
    const log = new EventLog();
    const missing = join(stateDir, "..", "solstice-no-such-image.qcow2");
    const result = await engine.runJob(
      request({
        repo_url: "git://10.0.2.2/none",
        commit_sha: "0123456789abcdef0123456789abcdef01234567",
        steps: [],
      }),
      { ...image, localPath: missing },
      { sink: log.sink },
    );
    expectWellFormed(log.events);
    expect(result.conclusion).toBe("failure");
    expect(result.error).toBeInstanceOf(VmImageMissingError);
    expect(result.reason).toBe(`image solstice-fast-guest: disk image ${missing} is missing or unreadable`);
    expect(log.lines(null)).toContain(
      "system: hint: fetch the image first (ciadm images pull solstice-fast-guest) or fix its path in the image map",
    );
    expect(result.vm).toBeUndefined();
    await expectNothingLeft(undefined);
  });

  it("fails clearly when the guest never answers on SSH, quoting its console, and cleans up", async () => {
    // The kernel finds no init and panics (panic=0: it stays there): no SSH server ever runs.
    const broken = { ...image, append: "console=ttyS0 panic=0 rdinit=/no/such/init" };
    const quick = new VmEngine({ stateDir, sshTimeoutMs: 30_000, hypervisor });
    const log = new EventLog();
    const result = await quick.runJob(
      request({
        repo_url: "git://10.0.2.2/none",
        commit_sha: "0123456789abcdef0123456789abcdef01234567",
        steps: [],
      }),
      broken,
      { sink: log.sink },
    );
    expectWellFormed(log.events);
    expect(result.conclusion).toBe("failure");
    expect(result.error).toBeInstanceOf(GuestUnreachableError);
    const error = result.error as GuestUnreachableError;
    expect(result.reason).toMatch(/^VM job-[0-9a-f-]+: no SSH answer on 127\.0\.0\.1:\d+ within \d+ s/);
    expect(error.consoleLines.some((line) => line.includes("Kernel panic"))).toBe(true);
    expect(error.message).toContain("last console lines:");
    expect(error.message).toMatch(/\| .*Kernel panic/);
    expect(log.lines(null).some((line) => line.includes("Kernel panic"))).toBe(true);
    await expectNothingLeft(result.vm);
  });
});
