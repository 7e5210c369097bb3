// warm-start: the time from `prepare` to the first output line of a job's first step through
// VmEngine.runJob, booting cold against restoring a warm template (issue 14), in the same run,
// alternating (cold first in odd rounds, warm first in even ones), for the fast guest and the
// cloud-init guest. Prints the medians, the ratio warm / cold (median of the per-round ratios),
// the template's build time and state file size, and the restore time (QEMU start → key swapped).
// Target: warm / cold <= 0.2 on the cloud-init guest.
//
//   node --conditions=@solstice/source bench/warm-start/main.ts [--rounds 5] [--cloud-rounds 3] [--guests fast,cloud-init]
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { type ImageEntry, newJobRequest } from "@solstice/common";
import { cloudInitGuestImage, fastGuestImage, GitServer } from "@solstice/test-support";
import { QemuHypervisor, resolveAccel, VmEngine, type WarmEvent } from "@solstice/vm-engine";

const COMMAND = "echo first-output-line";

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i === -1 ? undefined : Number(process.argv[i + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function argList(name: string, fallback: string[]): string[] {
  const i = process.argv.indexOf(name);
  return i === -1 || process.argv[i + 1] === undefined ? fallback : process.argv[i + 1]!.split(",");
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** prepare → first output line of step 0, in ms; fails unless the job succeeded the way asked. */
async function round(
  engine: VmEngine,
  image: ImageEntry,
  repo: { guestUrl: string; sha: string },
  expectWarm: boolean,
): Promise<number> {
  const request = newJobRequest({
    source: "manual",
    repo_url: repo.guestUrl,
    commit_sha: repo.sha,
    steps: [{ name: "first", run: COMMAND }],
  });
  const start = performance.now();
  let firstOutput: number | undefined;
  let restored = false;
  const result = await engine.runJob(request, image, {
    sink: (event) => {
      if (event.type !== "log") return;
      if (event.step === null && event.text.includes("restored from warm template")) restored = true;
      if (event.step === 0 && event.stream === "stdout") firstOutput ??= performance.now();
    },
  });
  if (result.conclusion !== "success" || firstOutput === undefined) {
    throw new Error(`round failed: ${result.conclusion} ${result.reason ?? ""}`);
  }
  if (restored !== expectWarm) throw new Error(`expected a ${expectWarm ? "warm" : "cold"} start`);
  return firstOutput - start;
}

async function benchGuest(
  name: string,
  image: ImageEntry,
  rounds: number,
  dir: string,
  git: GitServer,
): Promise<void> {
  const repo = await git.createRepo(`warm-${name}`, { README: "warm-start\n" });
  const hypervisor = new QemuHypervisor({ stateDir: join(dir, name, "vms") });
  const events: WarmEvent[] = [];
  // Under TCG on a busy machine the cloud-init guest may take minutes to boot.
  const sshTimeoutMs = 900_000;
  const cold = new VmEngine({ hypervisor, sshTimeoutMs });
  const warm = new VmEngine({
    hypervisor,
    sshTimeoutMs,
    warm: { dir: join(dir, name, "templates"), sshTimeoutMs, onEvent: (event) => events.push(event) },
  });
  const templates = warm.warm;
  if (templates === undefined) throw new Error("warm starts are off");
  try {
    const built = await templates.warm(image);
    if (built.state !== "ready") throw new Error(`template build failed: ${built.error}`);
    console.log(
      `${name}: template built in ${built.buildSeconds?.toFixed(1)} s, state file ${((built.stateBytes ?? 0) / 1024 ** 2).toFixed(0)} MiB; ${rounds} rounds (load ${loadavg()[0]!.toFixed(1)})`,
    );
    const coldMs: number[] = [];
    const warmMs: number[] = [];
    for (let r = 1; r <= rounds; r++) {
      for (const side of r % 2 === 1 ? ["cold", "warm"] : ["warm", "cold"]) {
        const ms =
          side === "cold" ? await round(cold, image, repo, false) : await round(warm, image, repo, true);
        (side === "cold" ? coldMs : warmMs).push(ms);
        console.log(`  round ${r} ${side.padEnd(4)} first output ${seconds(ms)}`);
      }
    }
    const restores = events.flatMap((e) =>
      e.type === "start" && e.kind === "warm" && e.restoreSeconds !== undefined
        ? [e.restoreSeconds * 1000]
        : [],
    );
    const ratios = warmMs.map((ms, i) => ms / coldMs[i]!);
    console.log(`${name}: cold median prepare → first output ${seconds(median(coldMs))}`);
    console.log(`${name}: warm median prepare → first output ${seconds(median(warmMs))}`);
    console.log(
      `${name}: ratio warm/cold ${median(ratios).toFixed(3)} (per round ${ratios.map((x) => x.toFixed(3)).join(", ")}; ratio of medians ${(median(warmMs) / median(coldMs)).toFixed(3)}; target <= 0.2 on the cloud-init guest)`,
    );
    console.log(
      `${name}: restore (prepare → job key swapped) median ${seconds(median(restores))}; state file ${built.stateBytes} bytes`,
    );
  } finally {
    await templates.close();
  }
}

async function main(): Promise<void> {
  const rounds = argValue("--rounds", 5);
  const cloudRounds = argValue("--cloud-rounds", 3);
  const guests = argList("--guests", ["fast", "cloud-init"]);
  const dir = await mkdtemp(join(tmpdir(), "solstice-bench-warm-"));
  const git = await GitServer.start();
  // The KVM probe runs once per process: before timing.
  const accel = await resolveAccel("auto");
  console.log(`warm-start: accel ${accel}, guests ${guests.join(", ")}`);
  try {
    if (guests.includes("fast")) await benchGuest("fast", await fastGuestImage(), rounds, dir, git);
    if (guests.includes("cloud-init"))
      await benchGuest("cloud-init", await cloudInitGuestImage(), cloudRounds, dir, git);
  } finally {
    await git.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
