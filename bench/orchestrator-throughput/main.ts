// orchestrator-throughput: N jobs of three trivial steps on the fast guest at capacity C, through
// RabbitMQ and the orchestrator service (a child process on Postgres), against the same N jobs
// driven straight through the VM engine with C at a time, in the same run. Prints jobs per minute
// for both, the ratio (target >= 0.90) and the service's peak RSS (VmHWM; target < 200 MB).
//
//   node --conditions=@solstice/source bench/orchestrator-throughput/main.ts [--jobs 20] [--capacity 2]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type JobRequest, newJobRequest } from "@solstice/common";
import { resolveAccel } from "@solstice/orchestrator";
import { fastGuestImage, gitRepo } from "./setup.ts";
import { runThroughEngine } from "./through-engine.ts";
import { runThroughService } from "./through-service.ts";

const TARGET_RATIO = 0.9;
const TARGET_RSS_MB = 200;

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "20" },
    capacity: { type: "string", default: "2" },
  },
});
const jobs = Number(values.jobs);
const capacity = Number(values.capacity);
if (!Number.isInteger(jobs) || jobs < 1 || !Number.isInteger(capacity) || capacity < 1) {
  console.error("--jobs and --capacity must be positive whole numbers");
  process.exit(2);
}

const dir = await mkdtemp(join(tmpdir(), "solstice-bench-orch-"));
const image = await fastGuestImage();
const git = await gitRepo(join(dir, "git"));
const accel = await resolveAccel("auto");
const makeJobs = (owner: JobRequest["owner"]): JobRequest[] =>
  Array.from({ length: jobs }, (_, i) =>
    newJobRequest({
      source: "manual",
      repo_url: git.url,
      commit_sha: git.sha,
      runs_on: image.label,
      owner,
      steps: [
        { name: "one", run: `echo one ${i}` },
        { name: "two", run: "uname -r" },
        { name: "three", run: "test -f README" },
      ],
    }),
  );

console.log(
  `orchestrator-throughput: ${jobs} jobs x 3 trivial steps, fast guest (${accel.toUpperCase()}), capacity ${capacity}`,
);
try {
  // Warm-up: one job through the engine (page cache, first QEMU start).
  await runThroughEngine(makeJobs(undefined).slice(0, 1), image, 1, join(dir, "warm"));

  const engine = await runThroughEngine(makeJobs(undefined), image, capacity, join(dir, "engine"));
  console.log(`  VM engine directly:     ${engine.seconds.toFixed(1)} s`);
  const service = await runThroughService(makeJobs, image, capacity, dir);
  console.log(`  RabbitMQ + orchestrator: ${service.seconds.toFixed(1)} s`);

  const perMinute = (seconds: number) => (jobs * 60) / seconds;
  const ratio = perMinute(service.seconds) / perMinute(engine.seconds);
  console.log("");
  console.log(
    `VM engine directly        ${perMinute(engine.seconds).toFixed(2)} jobs/min (${capacity} at a time)`,
  );
  console.log(
    `RabbitMQ + orchestrator   ${perMinute(service.seconds).toFixed(2)} jobs/min (MAX_CONCURRENCY=${capacity})`,
  );
  console.log(
    `ratio orchestrator/engine: ${ratio.toFixed(3)} (target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? "met" : "NOT met"})`,
  );
  console.log(
    `orchestrator peak RSS (VmHWM): ${service.peakRssMb.toFixed(1)} MB ` +
      `(target < ${TARGET_RSS_MB} MB: ${service.peakRssMb < TARGET_RSS_MB ? "met" : "NOT met"})`,
  );
} finally {
  git.daemon.kill();
  await rm(dir, { recursive: true, force: true });
}
