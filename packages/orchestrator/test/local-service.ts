import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ImageEntry,
  type ImageMap,
  InProcessJobQueue,
  type JobOwner,
  type ServiceLogger,
  silentLogger,
} from "@solstice/common";
import { VmEngine } from "@solstice/vm-engine";
import { LocalHypervisor } from "@solstice/vm-engine/local";
import { OrchestratorMetrics } from "../src/http/orchestrator-metrics.ts";
import { JobStore } from "../src/persistence/job-store.ts";
import { migrateToLatest } from "../src/persistence/migrate.ts";
import { CapacityScheduler } from "../src/scheduling/capacity-scheduler.ts";
import { CancelListener } from "../src/service/cancel-listener.ts";
import type { IntakeLimits } from "../src/service/intake-limits.ts";
import { DEFAULT_INTAKE_LIMITS } from "../src/service/intake-limits.ts";
import { JobIntake } from "../src/service/job-intake.ts";
import { JobRouter } from "../src/service/job-router.ts";
import { JobRunner, type JobRunnerOptions, type QueuedJob } from "../src/service/job-runner.ts";
import { EventCollector } from "./orchestrator-support.ts";
import { openTestDatabase, type TestDatabase } from "./persistence-backends.ts";

// The orchestrator's job flow for unit tests, wired as orchestrator-service.ts wires it (queue →
// JobIntake (JobRouter beside it) → CapacityScheduler → JobRunner → VmEngine; CancelListener beside), with nothing
// outside the process: the in-process queue, PGlite, and the VM engine on the `local` hypervisor
// (a VM is a temp directory, its guest /bin/sh on the host).

/** The label the local image serves (alias `fast`). */
export const LOCAL_LABEL = "local";
/** A label in the image map whose image is not on disk (fetched through `ensureImage`). */
export const REMOTE_LABEL = "remote";

/** A running job flow and what the tests look at. */
export interface LocalService {
  readonly hostId: string;
  readonly queue: InProcessJobQueue;
  readonly store: JobStore;
  readonly intake: JobIntake;
  readonly runner: JobRunner;
  readonly hypervisor: LocalHypervisor;
  readonly metrics: OrchestratorMetrics;
  /** The owner jobs are published for, and its events, in order. */
  readonly owner: JobOwner;
  readonly events: EventCollector;
  /** A directory for the test's own files. */
  readonly dir: string;
  /** The VMs' work directories are made here. */
  readonly vmDir: string;
  stop(): Promise<void>;
}

/**
 * Starts the flow; `ensureImage` fetches the `remote` image (default: fails, nothing to fetch from);
 * `logger` gets what the service and the engine log (default: nothing).
 */
export async function startLocalService(
  options: {
    ensureImage?: JobRunnerOptions["ensureImage"];
    maxConcurrency?: number;
    logger?: ServiceLogger;
    /** What a request may ask (default: the service's defaults). */
    limits?: IntakeLimits;
    /** The host's limit per job, in seconds (default: none). */
    jobTimeoutSecs?: number;
    /** Wraps the VM engine the runner uses (to watch what it is given). */
    wrapEngine?: (engine: VmEngine) => JobRunnerOptions["engine"];
  } = {},
): Promise<LocalService> {
  const logger = options.logger ?? silentLogger;
  const hostId = "unit-host";
  const dir = await mkdtemp(join(tmpdir(), "solstice-local-service-"));
  const vmDir = join(dir, "vms");
  const imageMap = await writeImageMap(join(dir, "images"));
  let database: TestDatabase | undefined;
  let queue: InProcessJobQueue | undefined;
  try {
    database = await openTestDatabase("pglite");
    await migrateToLatest(database.db);
    const store = new JobStore(database.db);
    queue = new InProcessJobQueue({ config: { retryDelayMs: 50 } });
    const hypervisor = new LocalHypervisor({ stateDir: vmDir, bootLines: ["local-guest: up"] });
    const engine = new VmEngine({ hypervisor, host: hostId, killGraceMs: 500, logger });
    const maxConcurrency = options.maxConcurrency ?? 2;
    const scheduler = new CapacityScheduler<QueuedJob>({
      global: maxConcurrency,
      perLabel: new Map([
        [LOCAL_LABEL, maxConcurrency],
        [REMOTE_LABEL, maxConcurrency],
      ]),
    });
    const metrics = new OrchestratorMetrics();
    const runner = new JobRunner({
      engine: options.wrapEngine?.(engine) ?? engine,
      store,
      queue,
      scheduler,
      hostId,
      metrics,
      logger,
      jobTimeoutSecs: options.jobTimeoutSecs,
      ensureImage:
        options.ensureImage ??
        (async (image) => {
          throw new Error(`cannot fetch ${image.source}: no such server`);
        }),
    });
    const cancels = new CancelListener({ queue, store, runner, hostId, logger });
    await cancels.start();
    const intake = new JobIntake({
      queue,
      store,
      runner,
      imageMap,
      hostId,
      prefetch: maxConcurrency,
      metrics,
      logger,
      limits: options.limits,
    });
    await intake.start();
    const router = new JobRouter({
      queue,
      imageMap,
      hostId,
      logger,
      prefetch: maxConcurrency,
      maxMessageBytes: (options.limits ?? DEFAULT_INTAKE_LIMITS).maxRequestBytes,
    });
    await router.start();
    const owner: JobOwner = { kind: "cidev", instance: `unit-${process.pid}` };
    const events = await EventCollector.subscribe(queue, owner);
    const opened = { database, queue };
    return {
      hostId,
      queue,
      store,
      intake,
      runner,
      hypervisor,
      metrics,
      owner,
      events,
      dir,
      vmDir,
      async stop() {
        await router.stop(5_000);
        await intake.stop(5_000);
        await runner.cancelAll("the test ended");
        await runner.settled();
        await cancels.stop();
        await events.close();
        await opened.queue.close({ timeoutMs: 5_000 });
        await opened.database.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await queue?.close({ timeoutMs: 1_000 }).catch(() => undefined);
    await database?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** An image map: `local` (alias `fast`, default) on disk (an empty file), `remote` not on disk. */
export async function writeImageMap(dir: string): Promise<ImageMap> {
  await mkdir(dir, { recursive: true });
  const local = join(dir, "local.img");
  await writeFile(local, "");
  const images = new Map<string, ImageEntry>([
    [LOCAL_LABEL, image(LOCAL_LABEL, local, `file://${local}`)],
    [REMOTE_LABEL, image(REMOTE_LABEL, join(dir, "remote.img"), "https://images.invalid/remote.img")],
  ]);
  return {
    file: join(dir, "images.yaml"),
    defaultLabel: LOCAL_LABEL,
    aliases: new Map([["fast", LOCAL_LABEL]]),
    sizes: new Map(),
    images,
  };
}

function image(label: string, localPath: string, source: string): ImageEntry {
  return {
    label,
    source,
    localPath,
    decompress: "none",
    nocloud: true,
    defaults: { cpu: 1, ramMb: 256, diskGb: 1 },
    sha256: undefined,
    format: "raw",
    sshUser: "runner",
    kernel: undefined,
    initrd: undefined,
    append: undefined,
    accel: "tcg",
  };
}
