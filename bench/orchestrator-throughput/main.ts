// orchestrator-throughput: N jobs of three trivial steps on the fast guest at capacity C, through
// RabbitMQ and the orchestrator service (a child process on Postgres), against the same N jobs
// driven straight through the VM engine with C at a time, in the same run. The jobs go in rounds
// (engine batch, service batch, alternating which goes first) so both sides share the machine's
// conditions. Prints jobs per minute for both, the ratio (target >= 0.90) and the service's peak
// RSS (VmHWM; target < 200 MB).
//
//   node --conditions=@solstice/source bench/orchestrator-throughput/main.ts [--jobs 20] [--rounds 5] [--capacity 2]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type JobOwner, type JobRequest, newJobRequest } from "@solstice/common";
import { resolveAccel } from "@solstice/vm-engine";
import { fastGuestImage, gitRepo } from "./setup.ts";
import { EngineSession } from "./through-engine.ts";
import { ServiceSession } from "./through-service.ts";

const TARGET_RATIO = 0.9;
const TARGET_RSS_MB = 200;

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "20" },
    rounds: { type: "string", default: "5" },
    capacity: { type: "string", default: "2" },
  },
});
const capacity = Number(values.capacity);
const rounds = Math.min(Number(values.rounds), Number(values.jobs));
const perRound = Math.floor(Number(values.jobs) / rounds);
if (![capacity, rounds, perRound].every((n) => Number.isInteger(n) && n >= 1)) {
  console.error("--jobs, --rounds and --capacity must be positive whole numbers (jobs >= rounds)");
  process.exit(2);
}
const jobs = perRound * rounds;

const dir = await mkdtemp(join(tmpdir(), "solstice-bench-orch-"));
const image = await fastGuestImage();
const git = await gitRepo(join(dir, "git"));
// The KVM probe runs once per process (the service does its own at start-up, before ready).
const accel = await resolveAccel("auto");
let serial = 0;
const makeJobs = (count: number, owner: JobOwner | undefined): JobRequest[] =>
  Array.from({ length: count }, () =>
    newJobRequest({
      source: "manual",
      repo_url: git.url,
      commit_sha: git.sha,
      runs_on: image.label,
      owner,
      steps: [
        { name: "one", run: `echo one ${++serial}` },
        { name: "two", run: "uname -r" },
        { name: "three", run: "test -f README" },
      ],
    }),
  );

console.log(
  `orchestrator-throughput: ${jobs} jobs x 3 trivial steps each way, fast guest (${accel.toUpperCase()}), ` +
    `capacity ${capacity}, ${rounds} rounds of ${perRound}`,
);
const engine = new EngineSession(image, capacity, join(dir, "engine"));
let service: ServiceSession | undefined;
try {
  service = await ServiceSession.start(image, capacity, dir);
  // Warm-up, not measured: one job each way (page cache, first QEMU start, JIT).
  await engine.run(makeJobs(1, undefined));
  await service.run(makeJobs(1, service.owner));

  let engineSeconds = 0;
  let serviceSeconds = 0;
  let engineCpu = 0;
  let serviceCpu = 0;
  const ratios: number[] = [];
  const runEngine = async (): Promise<number> => {
    const before = process.cpuUsage();
    const seconds = await engine.run(makeJobs(perRound, undefined));
    const used = process.cpuUsage(before);
    engineCpu += (used.user + used.system) / 1e6;
    return seconds;
  };
  const runService = async (session: ServiceSession): Promise<number> => {
    const before = await session.cpuSeconds();
    const seconds = await session.run(makeJobs(perRound, session.owner));
    serviceCpu += (await session.cpuSeconds()) - before;
    return seconds;
  };
  for (let round = 1; round <= rounds; round++) {
    const engineFirst = round % 2 === 1;
    let e = 0;
    let s = 0;
    if (engineFirst) e = await runEngine();
    s = await runService(service);
    if (!engineFirst) e = await runEngine();
    engineSeconds += e;
    serviceSeconds += s;
    ratios.push(e / s);
    console.log(
      `  round ${round}: engine ${e.toFixed(1)} s, orchestrator ${s.toFixed(1)} s (${engineFirst ? "engine" : "orchestrator"} first)`,
    );
  }
  const peak = await service.peakRssMb();

  const perMinute = (seconds: number) => (jobs * 60) / seconds;
  const sorted = [...ratios].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  const overall = perMinute(serviceSeconds) / perMinute(engineSeconds);
  console.log("");
  console.log(
    `VM engine directly        ${perMinute(engineSeconds).toFixed(2)} jobs/min (${capacity} at a time)`,
  );
  console.log(
    `RabbitMQ + orchestrator   ${perMinute(serviceSeconds).toFixed(2)} jobs/min (MAX_CONCURRENCY=${capacity})`,
  );
  console.log(
    `ratio orchestrator/engine: ${overall.toFixed(3)} overall, ${median.toFixed(3)} median of rounds ` +
      `(target >= ${TARGET_RATIO}: ${overall >= TARGET_RATIO ? "met" : "NOT met"})`,
  );
  console.log(
    `CPU per job outside QEMU: engine (bench process) ${(engineCpu / jobs).toFixed(2)} s, ` +
      `orchestrator process ${(serviceCpu / jobs).toFixed(2)} s`,
  );
  console.log(
    `orchestrator peak RSS (VmHWM): ${peak.toFixed(1)} MB ` +
      `(target < ${TARGET_RSS_MB} MB: ${peak < TARGET_RSS_MB ? "met" : "NOT met"})`,
  );
} finally {
  await service?.stop();
  git.daemon.kill();
  await rm(dir, { recursive: true, force: true });
}
