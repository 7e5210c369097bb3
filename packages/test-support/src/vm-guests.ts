import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { ImageEntry, JobEvent } from "@solstice/common";

// Shared setup of the VM engine's tests (and usable by other *.vm.test.ts): the fast test guest
// as an image entry, git repositories served to guests by `git daemon`, and checks that nothing
// of a VM is left behind.

const run = promisify(execFile);
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

interface GuestPaths {
  readonly kernel: string;
  readonly initrd: string;
  readonly disk: string;
  readonly format: "qcow2" | "raw";
  readonly append: string;
  readonly ssh_user: string;
}

/**
 * A test guest (built by scripts/build-test-guests.sh, cached; built here when missing) as an
 * image map entry. Fails with the build's output when it cannot be built.
 */
async function testGuestImage(
  guestName: "fast" | "cloud-init",
  label: string,
  defaults: ImageEntry["defaults"],
  overrides: Partial<ImageEntry>,
): Promise<ImageEntry> {
  let stdout: string;
  try {
    ({ stdout } = await run(
      "bash",
      [join(REPO_ROOT, "scripts/build-test-guests.sh"), guestName, "--print-paths=json"],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    ));
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`the ${guestName} test guest could not be built: ${e.stderr?.slice(-2000) ?? e.message}`);
  }
  const guest = (JSON.parse(stdout) as Record<string, GuestPaths>)[guestName];
  if (guest === undefined) throw new Error(`build-test-guests.sh printed no paths for ${guestName}`);
  return {
    label,
    source: `file://${guest.disk}`,
    localPath: guest.disk,
    decompress: "none",
    nocloud: true,
    defaults,
    sha256: undefined,
    format: guest.format,
    sshUser: guest.ssh_user,
    kernel: guest.kernel,
    initrd: guest.initrd,
    append: guest.append,
    accel: "auto",
    ...overrides,
  };
}

/** The fast test guest (busybox + dropbear + git initramfs; SSH in seconds under TCG). */
export function fastGuestImage(overrides: Partial<ImageEntry> = {}): Promise<ImageEntry> {
  return testGuestImage("fast", "solstice-fast-guest", { cpu: 1, ramMb: 512, diskGb: 1 }, overrides);
}

/** The cloud-init test guest (Debian 12 with systemd, cloud-init, OpenSSH, git; user `debian`). */
export function cloudInitGuestImage(overrides: Partial<ImageEntry> = {}): Promise<ImageEntry> {
  return testGuestImage("cloud-init", "debian-12-cloudinit", { cpu: 1, ramMb: 1024, diskGb: 2 }, overrides);
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Git repositories served by `git daemon` on 127.0.0.1; guests reach them at git://10.0.2.2:PORT/NAME. */
export class GitServer {
  readonly baseDir: string;
  readonly port: number;
  readonly #daemon: ChildProcess;

  private constructor(baseDir: string, port: number, daemon: ChildProcess) {
    this.baseDir = baseDir;
    this.port = port;
    this.#daemon = daemon;
  }

  static async start(): Promise<GitServer> {
    const baseDir = await mkdtemp(join(tmpdir(), "solstice-git-"));
    // A free port may be taken by another process before git binds it (tests and benches run
    // side by side): try again on another one.
    let lastError = "";
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      const started = await GitServer.#listen(baseDir, port);
      if (started instanceof GitServer) return started;
      lastError = started;
      if (!/Address already in use|unable to allocate/.test(started)) break;
    }
    await rm(baseDir, { recursive: true, force: true });
    throw new Error(`git daemon did not start: ${lastError}`);
  }

  /** The server on `port`, or git's complaint when it did not listen there. */
  static async #listen(baseDir: string, port: number): Promise<GitServer | string> {
    const daemon = spawn(
      "git",
      [
        "daemon",
        "--export-all",
        `--base-path=${baseDir}`,
        "--listen=127.0.0.1",
        `--port=${port}`,
        "--reuseaddr",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    daemon.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    for (let i = 0; i < 100; i++) {
      if (daemon.exitCode !== null) return `git daemon exited: ${stderr}`;
      const bound = await new Promise<boolean>((resolve) => {
        const socket = createServer();
        socket.once("error", () => resolve(true));
        socket.listen({ host: "127.0.0.1", port }, () => socket.close(() => resolve(false)));
      });
      if (bound) {
        // Bound by git, or by someone else (then git exits at once): look again shortly.
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (daemon.exitCode !== null) return `git daemon exited: ${stderr}`;
        return new GitServer(baseDir, port, daemon);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    daemon.kill();
    return `git daemon did not listen on ${port}: ${stderr}`;
  }

  /** Create repository `name` with `files` (path → content; a leading `+x ` makes it executable) in one commit. */
  async createRepo(name: string, files: Record<string, string>): Promise<{ sha: string; guestUrl: string }> {
    const dir = join(this.baseDir, name);
    await mkdir(dir, { recursive: true });
    const git = (...args: string[]) =>
      run("git", ["-c", "user.name=Solstice Test", "-c", "user.email=test@example.invalid", ...args], {
        cwd: dir,
      });
    await git("init", "-q");
    for (const [path, raw] of Object.entries(files)) {
      const executable = raw.startsWith("+x ");
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), executable ? raw.slice(3) : raw);
      if (executable) await chmod(join(dir, path), 0o755);
    }
    await git("add", "-A");
    await git("commit", "-q", "-m", "test commit");
    const sha = (await git("rev-parse", "HEAD")).stdout.trim();
    return { sha, guestUrl: `git://10.0.2.2:${this.port}/${name}` };
  }

  async stop(): Promise<void> {
    this.#daemon.kill();
    await rm(this.baseDir, { recursive: true, force: true });
  }
}

/** Pids of QEMU processes whose command line mentions `path` (e.g. a test's state directory). */
export async function qemuProcessesUsing(path: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.startsWith("qemu-system") && cmdline.includes(path)) pids.push(Number(entry));
    else if (cmdline.includes("/qemu-system") && cmdline.includes(path)) pids.push(Number(entry));
  }
  return pids;
}

/** Collects a job's events; `text(step)` gives one step's log lines. */
export class EventLog {
  readonly events: JobEvent[] = [];
  readonly sink = (event: JobEvent): void => {
    this.events.push(event);
  };

  of<T extends JobEvent["type"]>(type: T): Extract<JobEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<JobEvent, { type: T }> => e.type === type);
  }

  /** Log lines of a step (or of the job with `null`), as `stream: text` (an event may hold several). */
  lines(step: number | null): string[] {
    return this.of("log")
      .filter((e) => e.step === step)
      .flatMap((e) => e.text.split("\n").map((line) => `${e.stream}: ${line}`));
  }
}
