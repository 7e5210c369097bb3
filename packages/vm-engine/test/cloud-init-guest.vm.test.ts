import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newJobRequest } from "@solstice/common";
import { cloudInitGuestImage, EventLog, GitServer, qemuProcessesUsing } from "@solstice/test-support";
import { afterAll, beforeAll, expect, it } from "vitest";
import { VmEngine } from "../src/vm-engine.ts";

// The seed ISO written in TypeScript read by the real cloud-init: the Debian cloud-init guest
// (mmdebstrap, systemd, cloud-init, OpenSSH) boots with the engine's seed; SSH gets in only with
// the per-job key that cloud-init installed for the image's user (`debian`), and cloud-init's
// write_files put /etc/solstice/job.yaml in place. From one and a half to four minutes
// under TCG, depending on the host's load.

let git: GitServer;
let stateDir: string;

beforeAll(async () => {
  git = await GitServer.start();
  stateDir = await mkdtemp(join(tmpdir(), "solstice-cloud-init-"));
});

afterAll(async () => {
  await git?.stop();
  const leftovers = stateDir === undefined ? [] : await qemuProcessesUsing(stateDir);
  for (const pid of leftovers) process.kill(pid, "SIGKILL");
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  expect(leftovers).toEqual([]);
});

it("boots the cloud-init guest with the TypeScript seed: per-job key for its user, job.yaml written", async () => {
  const image = await cloudInitGuestImage();
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
