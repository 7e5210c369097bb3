import { copyFile, mkdtemp, readdir, readFile, rm, stat, truncate, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ImageEntry } from "@solstice/common";
import { type JobRequest, newJobRequest } from "@solstice/common";
import { EventLog, fastGuestImage, GitServer, qemuProcessesUsing } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshSession } from "../src/ssh/ssh-session.ts";
import { QemuHypervisor } from "../src/vm/qemu-vm.ts";
import type { VmHandle } from "../src/vm/vm-types.ts";
import { VmEngine } from "../src/vm-engine.ts";
import type { WarmEvent } from "../src/warm/warm-templates.ts";

// Warm starts end to end with real QEMU (TCG) and the fast guest, one template shared by every
// scenario: built, two jobs restored from it at once, the template key refused after the swap,
// no key material on disk, a corrupted state falling back to a cold boot, a changed base image
// making the template stale, nothing left after close.

let git: GitServer;
let root: string;
let imageDir: string | undefined;
let stateDir: string;
let templatesDir: string;
let image: ImageEntry;
let hypervisor: QemuHypervisor;
let engine: VmEngine;
const warmEvents: WarmEvent[] = [];
/** Private keys our side held (template and jobs): none may ever be found in a file. */
const secrets = new Set<string>();

beforeAll(async () => {
  git = await GitServer.start();
  root = await mkdtemp(join(tmpdir(), "solstice-warm-"));
  stateDir = join(root, "vms");
  templatesDir = join(root, "templates");
  // A private copy of the guest's files (outside the scanned root: the guest's initrd holds the
  // PEM armour as text): the test changes one to make its template stale.
  const cached = await fastGuestImage();
  imageDir = await mkdtemp(join(tmpdir(), "solstice-warm-image-"));
  const files = imageDir;
  const copy = async (path: string | undefined, name: string): Promise<string> => {
    if (path === undefined) throw new Error(`the fast guest has no ${name}`);
    await copyFile(path, join(files, name));
    return join(files, name);
  };
  image = {
    ...cached,
    localPath: await copy(cached.localPath, "disk.qcow2"),
    kernel: await copy(cached.kernel, "vmlinuz"),
    initrd: await copy(cached.initrd, "initrd"),
  };
  hypervisor = new QemuHypervisor({ stateDir });
  engine = new VmEngine({
    sshTimeoutMs: 180_000,
    hypervisor,
    warm: { dir: templatesDir, onEvent: (event) => warmEvents.push(event) },
  });
  // The hypervisor was given: the engine makes warm templates only around a QemuHypervisor.
  expect(engine.warm).toBeDefined();
});

afterAll(async () => {
  await engine?.warm?.close();
  await git?.stop();
  const leftovers = root === undefined ? [] : await qemuProcessesUsing(root);
  for (const pid of leftovers) process.kill(pid, "SIGKILL");
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  if (imageDir !== undefined) await rm(imageDir, { recursive: true, force: true });
  expect(leftovers).toEqual([]);
});

function request(fields: Partial<JobRequest> & { repo_url: string; commit_sha: string }): JobRequest {
  return newJobRequest({ source: "manual", ...fields });
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

/**
 * No private key our side made (template and job keys) is in any file under the state root, and
 * no file outside the guest's own disks and memory images holds a private key block (the guest's
 * memory holds the PEM armour as text of its SSH tools, and its own host keys).
 */
async function expectNoKeyMaterial(): Promise<void> {
  const bodies: Buffer[] = [];
  for (const secret of secrets) {
    for (const line of secret.split("\n").filter((l) => l.length >= 40)) bodies.push(Buffer.from(line));
  }
  const armour = Buffer.from("PRIVATE KEY-----");
  for (const file of await filesUnder(root)) {
    const content = await readFile(file).catch(() => Buffer.alloc(0));
    for (const body of bodies) expect(content.includes(body), `${file} holds one of our keys`).toBe(false);
    const guestImage = /(state|\.qcow2)$/.test(file);
    if (!guestImage) expect(content.includes(armour), `${file} holds a private key block`).toBe(false);
  }
  expect(bodies.length).toBeGreaterThan(0);
}

describe("warm starts with the fast guest", () => {
  it("builds a template, restores two jobs from it at once, swaps the keys, falls back on a bad state", async () => {
    const warm = engine.warm;
    if (warm === undefined) throw new Error("no warm templates");

    // 1. The template: a pristine cold boot saved; its files private, its disk frozen.
    const built = await warm.warm(image);
    expect(built.state, built.error).toBe("ready");
    const template = warm.templateFor(built.id);
    if (template === undefined) throw new Error("the ready template has no files");
    secrets.add(template.credentials.privateKey());
    expect((await stat(templatesDir)).mode & 0o777).toBe(0o700);
    expect((await stat(template.dir)).mode & 0o777).toBe(0o700);
    expect((await stat(template.statePath)).mode & 0o777).toBe(0o600);
    expect((await stat(template.diskPath)).mode & 0o777).toBe(0o400);
    expect(template.stateBytes).toBeGreaterThan(1024 * 1024);
    expect(await readdir(stateDir)).toEqual([]); // the template's boot VM is gone
    await expectNoKeyMaterial();
    const diskBefore = await readFile(template.diskPath);

    // 2. Two jobs at once from it: each its own key, port, disk and files.
    const repo = await git.createRepo("warm", { "README.md": "warm\n" });
    const jobs = [0, 1].map((n) =>
      request({
        repo_url: repo.guestUrl,
        commit_sha: repo.sha,
        steps: [
          {
            name: "Mine",
            run: [
              `echo job-${n} >/root/work/mine-${n}; echo job-${n} >/tmp/mine-${n}`,
              "sleep 2",
              'echo "seen: $(ls /root/work /tmp | grep -c "^mine-")"',
              'echo "host: $(hostname)"',
              'echo "clock: $(date +%s)"',
              "cat /etc/solstice/job.yaml",
              "cat README.md",
            ].join("\n"),
          },
        ],
      }),
    );
    const handles = new Map<string, VmHandle>();
    const logs = jobs.map(() => new EventLog());
    const results = await Promise.all(
      jobs.map((job, n) =>
        engine.runJob(job, image, {
          sink: logs[n]!.sink,
          onVm: (vm) => {
            if (vm.state === "running") {
              handles.set(job.request_id, vm);
              secrets.add(vm.credentials.privateKey());
            }
          },
        }),
      ),
    );
    for (const [n, result] of results.entries()) {
      const lines = logs[n]!.lines(0);
      expect(result.conclusion, lines.join("\n")).toBe("success");
      expect(lines).toContain("stdout: seen: 2"); // its own two files only
      expect(lines).toContain(`stdout: host: job-${jobs[n]!.request_id}`);
      expect(lines).toContain(`stdout: request_id: ${jobs[n]!.request_id}`);
      expect(lines).toContain("stdout: warm");
      const clock = Number(lines.find((l) => l.startsWith("stdout: clock: "))?.slice(15));
      expect(Math.abs(clock - Date.now() / 1000)).toBeLessThan(120);
      expect(logs[n]!.lines(null).some((l) => l.includes("restored from warm template"))).toBe(true);
    }
    const [a, b] = jobs.map((job) => handles.get(job.request_id)!);
    expect(a!.sshPort).not.toBe(b!.sshPort);
    expect(a!.overlayPath).not.toBe(b!.overlayPath);
    expect(a!.credentials.fingerprint).not.toBe(b!.credentials.fingerprint);
    expect(warmEvents.filter((e) => e.type === "start" && e.kind === "warm")).toHaveLength(2);
    // The jobs wrote to their own overlays only.
    expect((await readFile(template.diskPath)).equals(diskBefore)).toBe(true);

    // 3. After the swap the template key is refused and the job key gets in (a kept VM).
    const failing = request({
      repo_url: repo.guestUrl,
      commit_sha: repo.sha,
      steps: [{ name: "Fail", run: "exit 1" }],
    });
    const kept = await engine.runJob(failing, image, {
      sink: new EventLog().sink,
      keepVm: () => true,
      onVm: (vm) => {
        if (vm.state === "running") secrets.add(vm.credentials.privateKey());
      },
    });
    expect(kept.kept).toBe(true);
    const vm = kept.vm!;
    try {
      await expect(
        SshSession.connect({
          host: "127.0.0.1",
          port: vm.sshPort,
          username: "root",
          privateKey: template.credentials.privateKey(),
          readyTimeoutMs: 20_000,
        }),
      ).rejects.toThrow(/authentication/i);
      const job = await SshSession.connect({
        host: "127.0.0.1",
        port: vm.sshPort,
        username: "root",
        privateKey: vm.credentials.privateKey(),
        readyTimeoutMs: 20_000,
      });
      const keys = await job.run("cat /root/.ssh/authorized_keys");
      await job.close();
      expect(keys.stdout).toContain(vm.credentials.publicKey.split(" ")[1]);
      expect(keys.stdout).not.toContain(template.credentials.publicKey.split(" ")[1]);
      // During a run as after: no key material on disk.
      await expectNoKeyMaterial();
    } finally {
      await engine.discard(vm);
    }

    // 4. A corrupted state: the job boots cold and succeeds, the template is marked bad.
    const fallbacksBefore = warmEvents.filter((e) => e.type === "start" && e.kind === "fallback").length;
    await truncate(template.statePath, 4096);
    const fallbackLog = new EventLog();
    const fallback = await engine.runJob(
      request({ repo_url: repo.guestUrl, commit_sha: repo.sha, steps: [{ name: "Hi", run: "echo hi" }] }),
      image,
      { sink: fallbackLog.sink },
    );
    expect(fallback.conclusion, fallbackLog.lines(null).join("\n")).toBe("success");
    expect(fallbackLog.lines(null).some((l) => l.includes("Warm start failed"))).toBe(true);
    expect(warmEvents.filter((e) => e.type === "start" && e.kind === "fallback")).toHaveLength(
      fallbacksBefore + 1,
    );
    expect(warm.list().find((t) => t.id === built.id)?.state).toBe("bad");
    expect(template.credentials.held).toBe(false);

    // 5. The base image changed (its disk rewritten in place): the template is stale and removed,
    // the job boots cold, a new template is built beside it.
    const later = new Date(Date.now() + 60_000);
    await utimes(image.localPath, later, later);
    const coldLog = new EventLog();
    const cold = await engine.runJob(
      request({ repo_url: repo.guestUrl, commit_sha: repo.sha, steps: [{ name: "Hi", run: "echo hi" }] }),
      image,
      { sink: coldLog.sink },
    );
    expect(cold.conclusion, coldLog.lines(null).join("\n")).toBe("success");
    expect(warmEvents.filter((e) => e.type === "start").at(-1)).toMatchObject({ kind: "cold" });
    expect(warm.list().map((t) => t.id)).not.toContain(built.id);
    expect((await readdir(templatesDir)).filter((name) => name.startsWith(built.id))).toEqual([]);

    // 6. Closed: no template file, no VM directory, no QEMU, no key material.
    await warm.close();
    expect(await readdir(templatesDir)).toEqual([]);
    expect(await readdir(stateDir)).toEqual([]);
    expect(await qemuProcessesUsing(root)).toEqual([]);
    await expectNoKeyMaterial();
  });
});
