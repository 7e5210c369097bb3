// vm-overhead: the time from `prepare` to the first output line of a job's first step through
// the VM engine (VmEngine.runJob: overlay, seed ISO, QEMU over QMP, console, SSH with retries,
// git checkout, SFTP-uploaded step), against baseline.sh doing the same by hand with qemu-img,
// genisoimage, the same QEMU command line, an OpenSSH retry loop and the same git + command, in
// the same run, alternating, on the fast test guest. Also prints boot-to-SSH (QEMU started →
// SSH session) for both. Target: engine / baseline <= 1.10.
//
//   node --conditions=@solstice/source bench/vm-overhead/main.ts [--rounds 5]
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type ImageEntry, newJobRequest } from "@solstice/common";
import {
  LineSplitter,
  QemuHypervisor,
  resolveAccel,
  type SshPortAllocator,
  VmEngine,
} from "@solstice/vm-engine";

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const COMMAND = "echo first-output-line";

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i === -1 ? undefined : Number(process.argv[i + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

interface Sample {
  /** prepare → first output line of the first step. */
  readonly firstOutputMs: number;
  /** QEMU started → SSH session. */
  readonly bootToSshMs: number;
  /** SSH session → first output line (checkout, step upload and start). */
  readonly sshToOutputMs: number;
}

interface Guest {
  kernel: string;
  initrd: string;
  disk: string;
  format: "qcow2" | "raw";
  append: string;
  ssh_user: string;
}

async function fastGuest(): Promise<Guest> {
  const { stdout } = await run(
    "bash",
    [join(root, "scripts/build-test-guests.sh"), "fast", "--print-paths=json"],
    {
      maxBuffer: 1 << 24,
    },
  );
  return (JSON.parse(stdout) as { fast: Guest }).fast;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

async function gitServer(dir: string): Promise<{ daemon: ChildProcess; port: number; sha: string }> {
  const repo = join(dir, "repo");
  await mkdir(repo, { recursive: true });
  await writeFile(join(repo, "README"), "vm-overhead\n");
  const git = (...args: string[]) =>
    run("git", ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid", ...args], { cwd: repo });
  await git("init", "-q");
  await git("add", "README");
  await git("commit", "-q", "-m", "bench");
  const sha = (await git("rev-parse", "HEAD")).stdout.trim();
  const port = await freePort();
  const daemon = spawn(
    "git",
    ["daemon", "--export-all", `--base-path=${dir}`, "--listen=127.0.0.1", `--port=${port}`, "--reuseaddr"],
    { stdio: "ignore" },
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { daemon, port, sha };
}

async function engineRound(
  engine: VmEngine,
  image: ImageEntry,
  repoUrl: string,
  sha: string,
): Promise<Sample> {
  const request = newJobRequest({
    source: "manual",
    repo_url: repoUrl,
    commit_sha: sha,
    steps: [{ name: "first", run: COMMAND }],
  });
  const start = performance.now();
  let qemuStarted: number | undefined;
  let sshUp: number | undefined;
  let firstOutput: number | undefined;
  const result = await engine.runJob(request, image, {
    sink: (event) => {
      if (event.type !== "log") return;
      const now = performance.now();
      if (event.step === null && event.text.startsWith("VM started")) qemuStarted ??= now;
      if (event.step === null && event.text.startsWith("SSH is up")) sshUp ??= now;
      if (event.step === 0 && event.stream === "stdout") firstOutput ??= now;
    },
  });
  if (
    result.conclusion !== "success" ||
    firstOutput === undefined ||
    sshUp === undefined ||
    qemuStarted === undefined
  ) {
    throw new Error(`engine round failed: ${result.conclusion} ${result.reason ?? ""}`);
  }
  return {
    firstOutputMs: firstOutput - start,
    bootToSshMs: sshUp - qemuStarted,
    sshToOutputMs: firstOutput - sshUp,
  };
}

async function baselineRound(
  guest: Guest,
  accel: string,
  ports: SshPortAllocator,
  repoUrl: string,
  sha: string,
): Promise<Sample> {
  const work = join(await mkdtemp(join(tmpdir(), "solstice-bench-baseline-")), "vm");
  const port = await ports.allocate(`baseline-${Date.now()}`);
  try {
    const start = performance.now();
    const marks = new Map<string, number>();
    const child = spawn("bash", [join(here, "baseline.sh")], {
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        ...process.env,
        WORK: work,
        KERNEL: guest.kernel,
        INITRD: guest.initrd,
        DISK: guest.disk,
        FORMAT: guest.format,
        APPEND: guest.append,
        ACCEL: accel,
        CPU: "1",
        RAM_MB: "512",
        DISK_GB: "1",
        PORT: String(port),
        REPO_URL: repoUrl,
        SHA: sha,
        COMMAND,
      },
    });
    const splitter = new LineSplitter();
    child.stdout.on("data", (chunk: Buffer) => {
      const now = performance.now();
      for (const line of splitter.push(chunk)) if (!marks.has(line)) marks.set(line, now);
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const qemuStarted = marks.get("MARK qemu-started");
    const sshUp = marks.get("MARK ssh-up");
    const firstOutput = marks.get("first-output-line");
    if (code !== 0 || qemuStarted === undefined || sshUp === undefined || firstOutput === undefined) {
      throw new Error(`baseline round failed (exit ${code})`);
    }
    return {
      firstOutputMs: firstOutput - start,
      bootToSshMs: sshUp - qemuStarted,
      sshToOutputMs: firstOutput - sshUp,
    };
  } finally {
    ports.release(port);
    await rm(dirname(work), { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const rounds = argValue("--rounds", 5);
  const guest = await fastGuest();
  const dir = await mkdtemp(join(tmpdir(), "solstice-bench-vm-"));
  const { daemon, port, sha } = await gitServer(join(dir, "git"));
  const repoUrl = `git://10.0.2.2:${port}/repo`;
  // The KVM probe runs once per process; do it before timing (both sides then use its verdict).
  const accel = await resolveAccel("auto");
  const hypervisor = new QemuHypervisor({ stateDir: join(dir, "vms") });
  const engine = new VmEngine({ hypervisor });
  const image: ImageEntry = {
    label: "solstice-fast-guest",
    source: `file://${guest.disk}`,
    localPath: guest.disk,
    decompress: "none",
    nocloud: true,
    defaults: { cpu: 1, ramMb: 512, diskGb: 1 },
    sha256: undefined,
    format: guest.format,
    sshUser: guest.ssh_user,
    kernel: guest.kernel,
    initrd: guest.initrd,
    append: guest.append,
    accel: "auto",
  };
  console.log(`vm-overhead: fast guest, accel ${accel}, ${rounds} rounds (alternating engine / baseline)`);
  const engineSamples: Sample[] = [];
  const baselineSamples: Sample[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const first = round % 2 === 1 ? "engine" : "baseline";
      for (const side of first === "engine" ? ["engine", "baseline"] : ["baseline", "engine"]) {
        const sample =
          side === "engine"
            ? await engineRound(engine, image, repoUrl, sha)
            : await baselineRound(guest, accel, hypervisor.ports, repoUrl, sha);
        (side === "engine" ? engineSamples : baselineSamples).push(sample);
        console.log(
          `  round ${round} ${side.padEnd(8)} first output ${seconds(sample.firstOutputMs)}  boot-to-SSH ${seconds(sample.bootToSshMs)}  SSH-to-output ${seconds(sample.sshToOutputMs)}`,
        );
      }
    }
  } finally {
    daemon.kill();
    await rm(dir, { recursive: true, force: true });
  }
  const med = (samples: Sample[], key: keyof Sample): number => median(samples.map((sample) => sample[key]));
  // Each round's pair ran back to back under the same load from the rest of the machine: the
  // ratio reported is the median of the per-round ratios (a busy moment hurts one pair only).
  const ratios = engineSamples.map((sample, i) => sample.firstOutputMs / baselineSamples[i]!.firstOutputMs);
  const ratio = median(ratios);
  console.log(`engine   median prepare → first output: ${seconds(med(engineSamples, "firstOutputMs"))}`);
  console.log(`baseline median prepare → first output: ${seconds(med(baselineSamples, "firstOutputMs"))}`);
  console.log(
    `ratio engine/baseline: ${ratio.toFixed(3)} (median of per-round ratios ${ratios.map((r) => r.toFixed(2)).join(", ")}; ratio of medians ${(med(engineSamples, "firstOutputMs") / med(baselineSamples, "firstOutputMs")).toFixed(3)}; target <= 1.10)`,
  );
  console.log(
    `boot-to-SSH median: engine ${seconds(med(engineSamples, "bootToSshMs"))}, baseline ${seconds(med(baselineSamples, "bootToSshMs"))}`,
  );
  console.log(
    `SSH-to-first-output median: engine ${seconds(med(engineSamples, "sshToOutputMs"))}, baseline ${seconds(med(baselineSamples, "sshToOutputMs"))} (the baseline's includes a second SSH connection)`,
  );
}

await main();
