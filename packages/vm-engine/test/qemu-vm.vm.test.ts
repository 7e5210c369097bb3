import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ImageEntry } from "@solstice/common";
import { newJobRequest } from "@solstice/common";
import { fastGuestImage, qemuProcessesUsing } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QemuStartError, VmStateError, VmWorkDirError } from "../src/errors.ts";
import { QemuHypervisor } from "../src/vm/qemu-vm.ts";
import { preferredSshPort } from "../src/vm/ssh-port.ts";
import { isLoopbackPortFree } from "../src/vm/ssh-port-allocator.ts";
import { vmSpecFor } from "../src/vm/vm-spec.ts";
import type { VmSpec } from "../src/vm/vm-types.ts";

// The QEMU hypervisor's lifecycle with real QEMU, without waiting for guests to boot (the engine
// tests do that): what prepare leaves on disk, handle states, stop and destroy, and QEMU failing
// to start, with its own words in the error.

const run = promisify(execFile);

let stateDir: string;
let image: ImageEntry;
let hv: QemuHypervisor;
let counter = 0;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "solstice-qemu-vm-"));
  image = await fastGuestImage();
  hv = new QemuHypervisor({ stateDir });
});

afterAll(async () => {
  const leftovers = stateDir === undefined ? [] : await qemuProcessesUsing(stateDir);
  for (const pid of leftovers) process.kill(pid, "SIGKILL");
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  expect(leftovers).toEqual([]);
});

function spec(overrides: Partial<VmSpec> = {}, imageOverrides: Partial<ImageEntry> = {}): VmSpec {
  const request = newJobRequest({
    source: "manual",
    repo_url: "git://10.0.2.2/repo",
    commit_sha: "0123456789abcdef0123456789abcdef01234567",
  });
  counter += 1;
  return {
    ...vmSpecFor({ ...image, ...imageOverrides }, request, { name: `vm-test-${process.pid}-${counter}` }),
    accel: "tcg",
    ...overrides,
  };
}

describe("QemuHypervisor", () => {
  it("prepares a 0700 work directory with an overlay on the base, a seed with the public key, and no private key", async () => {
    const vm = await hv.prepare(spec());
    try {
      expect(vm.state).toBe("prepared");
      expect(Object.isFrozen(vm)).toBe(true);
      expect((await stat(vm.workDir)).mode & 0o777).toBe(0o700);
      expect(vm.workDir).toBe(join(stateDir, vm.name));

      const info = JSON.parse((await run("qemu-img", ["info", "--output=json", vm.overlayPath])).stdout);
      expect(info.format).toBe("qcow2");
      expect(info["backing-filename"]).toBe(image.localPath);
      expect(info["backing-filename-format"]).toBe("qcow2");
      // disk_gb 1 is larger than the 256 MiB base.
      expect(info["virtual-size"]).toBe(1024 ** 3);

      const userData = (await run("isoinfo", ["-R", "-i", vm.seedPath, "-x", "/user-data"])).stdout;
      expect(userData.startsWith("#cloud-config\n")).toBe(true);
      expect(userData).toContain(vm.credentials.publicKey);
      expect(userData).toContain("/etc/solstice/job.yaml");
      expect(userData).toContain("commit_sha: 0123456789abcdef0123456789abcdef01234567");

      // The private key never touches the disk.
      const secret = vm.credentials.privateKey().split("\n")[1]!;
      for (const file of await readdir(vm.workDir)) {
        const content = await readFile(join(vm.workDir, file), "latin1");
        expect(content).not.toContain("PRIVATE KEY");
        expect(content).not.toContain(secret);
      }
      expect(JSON.stringify(vm)).not.toContain(secret);
      expect(hv.ports.reserved()).toContain(vm.sshPort);
    } finally {
      const destroyed = await hv.destroy(vm);
      expect(destroyed.state).toBe("destroyed");
    }
    expect(await readdir(stateDir)).toEqual([]);
    expect(hv.ports.reserved()).not.toContain(vm.sshPort);
    expect(vm.credentials.held).toBe(false);
  });

  it("starts, stops and destroys; handles are new immutable objects; destroy is idempotent", async () => {
    const prepared = await hv.prepare(spec());
    const running = await hv.start(prepared);
    try {
      expect(prepared.state).toBe("prepared");
      expect(running.state).toBe("running");
      expect(running).not.toBe(prepared);
      expect(running.pid).toBeGreaterThan(1);
      expect(hv.state(running)).toBe("running");
      expect(await qemuProcessesUsing(stateDir)).toEqual([running.pid]);
      expect(Number(await readFile(running.pidFile, "utf8"))).toBe(running.pid);
      expect(await hv.qmp(running)?.queryStatus()).toEqual({ status: "running", running: true });
      expect(await isLoopbackPortFree(running.sshPort)).toBe(false);
      await expect(hv.start(running)).rejects.toBeInstanceOf(VmStateError);

      // The guest is still booting and cannot power off yet: stop falls back to QMP quit.
      const stopped = await hv.stop(running, { gracefulTimeoutMs: 500 });
      expect(stopped.state).toBe("stopped");
      expect(stopped.pid).toBeUndefined();
      expect(hv.state(stopped)).toBe("stopped");
      expect(await qemuProcessesUsing(stateDir)).toEqual([]);
      expect(await isLoopbackPortFree(running.sshPort)).toBe(true);
    } finally {
      await hv.destroy(running);
    }
    const again = await hv.destroy(running);
    expect(again.state).toBe("destroyed");
    expect(hv.state(again)).toBe("destroyed");
    expect(await readdir(stateDir)).toEqual([]);
    await expect(hv.start(again)).rejects.toBeInstanceOf(VmStateError);
  });

  it("destroy kills a running VM", async () => {
    const running = await hv.start(await hv.prepare(spec()));
    await hv.destroy(running);
    expect(await qemuProcessesUsing(stateDir)).toEqual([]);
    expect(await readdir(stateDir)).toEqual([]);
  });

  it("refuses a second VM of the same name", async () => {
    const first = spec();
    const vm = await hv.prepare(first);
    try {
      await expect(hv.prepare(first)).rejects.toThrow(VmWorkDirError);
      await expect(hv.prepare(first)).rejects.toThrow(/a VM of this name already exists/);
    } finally {
      await hv.destroy(vm);
    }
  });

  it("skips an SSH port that something else listens on", async () => {
    const wanted = spec();
    const preferred = preferredSshPort(wanted.name);
    const server: Server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen({ host: "127.0.0.1", port: preferred }, () => resolve(true));
    });
    try {
      const vm = await hv.prepare(wanted);
      await hv.destroy(vm);
      expect(vm.sshPort).not.toBe(preferred);
    } finally {
      if (bound) await new Promise((resolve) => server.close(resolve));
    }
  });

  describe("QEMU that cannot start gives an error quoting its stderr, and leaves nothing", () => {
    it("a bad kernel image", async () => {
      const garbage = join(stateDir, "..", `solstice-garbage-kernel-${process.pid}`);
      await writeFile(garbage, "this is not a kernel");
      try {
        const vm = await hv.prepare(spec({}, { kernel: garbage, initrd: undefined, append: undefined }));
        const error = await hv.start(vm).catch((e: unknown) => e);
        await hv.destroy(vm);
        expect(error).toBeInstanceOf(QemuStartError);
        expect((error as QemuStartError).message).toMatch(
          /^QEMU for VM vm-test-\d+-\d+ exited with 1: qemu: invalid kernel header/,
        );
      } finally {
        await rm(garbage, { force: true });
      }
      expect(await readdir(stateDir)).toEqual([]);
    });

    it("a bad option", async () => {
      const vm = await hv.prepare(spec({ cpu: 1000 }));
      const error = await hv.start(vm).catch((e: unknown) => e);
      await hv.destroy(vm);
      expect(error).toBeInstanceOf(QemuStartError);
      expect((error as QemuStartError).stderr).toContain("Invalid SMP CPUs 1000");
      expect(await qemuProcessesUsing(stateDir)).toEqual([]);
    });

    it("a missing QEMU binary", async () => {
      const missing = new QemuHypervisor({ stateDir, qemuBinary: "/nonexistent/qemu-system-x86_64" });
      const vm = await missing.prepare(spec());
      const error = await missing.start(vm).catch((e: unknown) => e);
      await missing.destroy(vm);
      expect(error).toBeInstanceOf(QemuStartError);
      expect((error as QemuStartError).message).toContain("spawn /nonexistent/qemu-system-x86_64 ENOENT");
      expect((error as QemuStartError).hint).toContain("is /nonexistent/qemu-system-x86_64 installed?");
      expect(await readdir(stateDir)).toEqual([]);
    });
  });
});
