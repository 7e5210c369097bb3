import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newJobRequest } from "@solstice/common";
import { cloudInitGuestImage, EventLog, GitServer, qemuProcessesUsing } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshSession } from "../src/ssh/ssh-session.ts";
import { QemuHypervisor } from "../src/vm/qemu-vm.ts";
import { VmEngine } from "../src/vm-engine.ts";

// The seed ISO written in TypeScript read by the real cloud-init: the Debian cloud-init guest
// (mmdebstrap, systemd, cloud-init, OpenSSH) boots with the engine's seed; SSH gets in only with
// the per-job key that cloud-init installed for the image's user (`debian`), and cloud-init's
// write_files put /etc/solstice/job.yaml in place. From one and a half to four minutes
// under TCG, depending on the host's load. Beside it, at the same time (each guest takes one of the
// two cores): a warm template of the same guest, and two jobs restored from it at once.

let git: GitServer;
let root: string;

beforeAll(async () => {
  git = await GitServer.start();
  root = await mkdtemp(join(tmpdir(), "solstice-cloud-init-"));
});

afterAll(async () => {
  await git?.stop();
  const leftovers = root === undefined ? [] : await qemuProcessesUsing(root);
  for (const pid of leftovers) process.kill(pid, "SIGKILL");
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  expect(leftovers).toEqual([]);
});

describe.concurrent("the cloud-init guest", () => {
  it("boots the cloud-init guest with the TypeScript seed: per-job key for its user, job.yaml written", async () => {
    const image = await cloudInitGuestImage();
    const stateDir = join(root, "cold");
    await mkdir(stateDir);
    const repo = await git.createRepo("cloud-init", { "hello.txt": "hello from the repository\n" });
    // A loaded TCG host can take minutes to boot systemd and cloud-init.
    const engine = new VmEngine({ stateDir, sshTimeoutMs: 480_000 });
    const log = new EventLog();
    const request = newJobRequest({
      source: "manual",
      repo_url: repo.guestUrl,
      commit_sha: repo.sha,
      workflow_job_id: "cloud-init-test",
      steps: [
        { name: "job.yaml", run: "cat /etc/solstice/job.yaml" },
        { name: "who", run: 'id -un\npwd\ncat hello.txt\ngrep -c solstice- "$HOME/.ssh/authorized_keys"' },
      ],
    });
    const result = await engine.runJob(request, image, { sink: log.sink });

    expect(result.reason).toBeUndefined();
    expect(result.conclusion).toBe("success");
    expect(log.lines(0)).toEqual([
      `stdout: repo_url: ${repo.guestUrl}`,
      `stdout: commit_sha: ${repo.sha}`,
      `stdout: request_id: ${request.request_id}`,
      "stdout: workflow_job_id: cloud-init-test",
    ]);
    expect(log.lines(1)).toEqual([
      "stdout: debian",
      "stdout: /home/debian/work",
      "stdout: hello from the repository",
      "stdout: 1",
    ]);
    // cloud-init itself said so on the console while the guest booted.
    expect(log.lines(null).some((line) => line.includes("cloud-init"))).toBe(true);
    expect(result.vm?.state).toBe("destroyed");
    expect(await readdir(stateDir)).toEqual([]);
    expect(await qemuProcessesUsing(stateDir)).toEqual([]);
  }, 600_000);

  it("warm: a template of it, two jobs restored from it at once as its user, the template key refused", async () => {
    const image = await cloudInitGuestImage();
    const stateDir = join(root, "warm-vms");
    const repo = await git.createRepo("cloud-init-warm", { "hello.txt": "hello warm\n" });
    const engine = new VmEngine({
      sshTimeoutMs: 480_000,
      hypervisor: new QemuHypervisor({ stateDir }),
      warm: { dir: join(root, "templates") },
    });
    const warm = engine.warm;
    if (warm === undefined) throw new Error("no warm templates");
    try {
      const built = await warm.warm(image);
      expect(built.state, built.error).toBe("ready");
      const template = warm.templateFor(built.id);
      if (template === undefined) throw new Error("the ready template has no files");

      const jobs = [0, 1].map((n) =>
        newJobRequest({
          source: "manual",
          repo_url: repo.guestUrl,
          commit_sha: repo.sha,
          steps: [
            {
              name: "mine",
              run: [
                "id -un",
                `echo job-${n} >mine-${n}; echo job-${n} >/tmp/mine-${n}`,
                "sleep 2",
                'echo "seen: $(ls . /tmp | grep -c "^mine-")"',
                "cat hello.txt",
                "grep request_id /etc/solstice/job.yaml",
                // The second one fails on purpose: its VM is kept for the key check below.
                n === 1 ? "exit 3" : "true",
              ].join("\n"),
            },
          ],
        }),
      );
      const logs = jobs.map(() => new EventLog());
      const results = await Promise.all(
        jobs.map((job, n) => engine.runJob(job, image, { sink: logs[n]!.sink, keepVm: () => n === 1 })),
      );
      for (const [n, result] of results.entries()) {
        const lines = logs[n]!.lines(0);
        expect(result.conclusion, lines.join("\n")).toBe(n === 0 ? "success" : "failure");
        expect(lines.slice(0, 4)).toEqual([
          "stdout: debian",
          "stdout: seen: 2",
          "stdout: hello warm",
          `stdout: request_id: ${jobs[n]!.request_id}`,
        ]);
        expect(logs[n]!.lines(null).some((l) => l.includes("restored from warm template"))).toBe(true);
      }
      expect(results[0]!.vm?.sshPort).not.toBe(results[1]!.vm?.sshPort);

      // The kept VM: its user lets the job key in and refuses the template's.
      const vm = results[1]!.vm!;
      try {
        const login = { host: "127.0.0.1", port: vm.sshPort, username: "debian", readyTimeoutMs: 30_000 };
        await expect(
          SshSession.connect({ ...login, privateKey: template.credentials.privateKey() }),
        ).rejects.toThrow(/authentication/i);
        const session = await SshSession.connect({ ...login, privateKey: vm.credentials.privateKey() });
        const who = await session.run("id -un");
        await session.close();
        expect(who.stdout.trim()).toBe("debian");
      } finally {
        await engine.discard(vm);
      }
    } finally {
      await warm.close();
    }
    expect(await readdir(join(root, "templates"))).toEqual([]);
    expect(await readdir(stateDir)).toEqual([]);
  }, 900_000);
});
