import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  AmqpJobQueue,
  createLogger,
  type ImageMap,
  InProcessJobQueue,
  type JobQueue,
  loadImageMap,
  watchQueueDiagnostics,
} from "@solstice/common";
import { resolveAccel, VmEngine, type VmEngineOptions } from "@solstice/vm-engine";
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { ServiceConfig } from "../config/service-config.ts";
import { OrchestratorStartError } from "../errors.ts";
import { buildApp, listenHttpApi } from "../http/build-app.ts";
import { OrchestratorMetrics } from "../http/orchestrator-metrics.ts";
import type { OrchestratorDatabase } from "../persistence/database-schema.ts";
import { FleetHostStore } from "../persistence/fleet-hosts.ts";
import { JobStore } from "../persistence/job-store.ts";
import { migrateToLatest } from "../persistence/migrate.ts";
import { describeDatabaseTarget, openDatabase } from "../persistence/open-database.ts";
import type { RecoveryReport } from "../recovery/recover-host.ts";
import { CapacityScheduler } from "../scheduling/capacity-scheduler.ts";
import { ORCHESTRATOR_VERSION } from "../version.ts";
import { CancelListener } from "./cancel-listener.ts";
import { DebugSsh } from "./debug-ssh.ts";
import { FleetHeartbeat } from "./fleet-heartbeat.ts";
import { fleetOverview } from "./fleet-overview.ts";
import { httpCancel } from "./http-cancel.ts";
import { imageTemplates } from "./image-templates.ts";
import { JobIntake } from "./job-intake.ts";
import { JobRouter } from "./job-router.ts";
import { JobRunner, type QueuedJob } from "./job-runner.ts";
import { readQueueDepths } from "./queue-depths.ts";
import { type ShutdownReport, shutdown } from "./shutdown.ts";
import { recoverOnStart } from "./startup-recovery.ts";

/** The service's name: in logs, spans, the AMQP connection name, `--help`. */
export const SERVICE_NAME = "solstice-orchestrator";

/** What the caller may provide instead of what `startOrchestrator` makes from the config. */
export interface OrchestratorDeps {
  /** Default: a pino logger on stderr (`LOG_LEVEL`). */
  readonly logger?: Logger | undefined;
  /** The queue to use (e.g. one `cidev` also holds); default: from `config.queue`. Closed by `stop()`. */
  readonly queue?: JobQueue | undefined;
  /** Default: read from `config.imageMapPath`. */
  readonly imageMap?: ImageMap | undefined;
  /**
   * VM engine settings (the state directory always comes from the config). `hypervisor` replaces
   * QEMU, for tests (`@solstice/vm-engine/local`): no configuration setting can choose one.
   */
  readonly engine?: Omit<VmEngineOptions, "stateDir" | "host" | "logger"> | undefined;
  /** Serve the HTTP API (default true; `cidev run` may not need it). */
  readonly http?: boolean | undefined;
  /** Accepted jobs allowed to wait beyond those that can start at once (default 1). */
  readonly intakeBuffer?: number | undefined;
  /** Apply migrations whatever the config says (default: `config.runMigrations`). */
  readonly migrate?: boolean | undefined;
}

/** A running orchestrator. */
export interface RunningOrchestrator {
  readonly config: ServiceConfig;
  readonly hostId: string;
  /** The queue it consumes: publish `JobRequest`s to it, consume the owner's events from it. */
  readonly queue: JobQueue;
  readonly store: JobStore;
  readonly engine: VmEngine;
  readonly metrics: OrchestratorMetrics;
  /** Where the HTTP API answers (`http://127.0.0.1:8081`), undefined without it. */
  readonly httpUrl: string | undefined;
  /** What the start-up recovery did. */
  readonly recovery: RecoveryReport;
  /** Jobs running and waiting now. */
  load(): { running: number; queued: number };
  /**
   * Two-phase shutdown: stops taking jobs, lets running ones finish up to `drainTimeoutMs`
   * (default DRAIN_TIMEOUT_SECS), then cancels the rest (reported cancelled, VMs destroyed), and
   * closes the HTTP API, the queue and the database. Idempotent: later calls get the same promise.
   */
  stop(options?: { drainTimeoutMs?: number }): Promise<ShutdownReport>;
  /** Ends the drain of a `stop()` under way at once (a second SIGTERM/SIGINT). */
  skipDrain(): void;
}

/**
 * Starts the orchestrator service: the same code in fleet mode (RabbitMQ + Postgres) and in the
 * embedded single-node mode (in-process queue + PGlite under STATE_DIR, used by `cidev run`).
 *
 * Order: image map → database (migrated) → queue → start-up recovery (what a previous run of this
 * HOST_ID left) → cancel listener → HTTP API → job intake. Whatever was opened is closed again if a
 * later part fails.
 *
 * @example
 *   const orch = await startOrchestrator(config);
 *   await orch.queue.consumeEvents(owner, onEvent);
 *   await orch.queue.publishJob(request);
 *   // ...
 *   await orch.stop();
 */
export async function startOrchestrator(
  config: ServiceConfig,
  deps: OrchestratorDeps = {},
): Promise<RunningOrchestrator> {
  const logger = deps.logger ?? createLogger({ service: SERVICE_NAME });
  const cleanup: { name: string; close: () => Promise<void> }[] = [];
  const step = async <T>(part: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      for (const c of cleanup.reverse()) await c.close().catch(() => undefined);
      throw error instanceof OrchestratorStartError ? error : new OrchestratorStartError(part, error);
    }
  };

  const hostId = config.hostId;
  const vmRoot = join(config.stateDir, "vms");
  const imageMap = deps.imageMap ?? (await step("image map", () => loadImageMap(config.imageMapPath)));
  await step("state directory", () => mkdir(config.stateDir, { recursive: true, mode: 0o700 }));
  // The KVM probe boots a tiny guest (up to seconds): once, now, rather than in the first job.
  if ([...imageMap.images.values()].some((image) => image.accel === "auto")) {
    const accel = await step("acceleration probe", () =>
      resolveAccel("auto", {
        logger,
        ...(deps.engine?.qemuBinary === undefined ? {} : { qemuBinary: deps.engine.qemuBinary }),
      }),
    );
    logger.info({ accel }, "VM acceleration");
  }

  const db: Kysely<OrchestratorDatabase> = await step("database", () => openDatabase(config.database));
  cleanup.push({ name: "database", close: () => db.destroy() });
  const store = new JobStore(db, {
    logRetention: config.logRetention,
    // Every end of a job passes here (run, refused after recording, cancelled, recovered).
    onFinished: (job, conclusion) => metrics.observeFinished({ label: job.label, conclusion }),
  });
  if (deps.migrate ?? config.runMigrations) {
    const applied = await step("database migrations", () => migrateToLatest(db));
    if (applied.length > 0) logger.info({ applied }, "database migrated");
  }

  const queue =
    deps.queue ??
    (await step("queue", async () =>
      config.queue.kind === "amqp"
        ? await AmqpJobQueue.connect({
            config: config.queue.mq,
            logger: logger.child({ component: "queue" }),
            connectionName: `${SERVICE_NAME}@${hostId}`,
            labelRouting: imageMap,
          })
        : new InProcessJobQueue({
            config: config.queue.mq,
            logger: logger.child({ component: "queue" }),
            labelRouting: imageMap,
          }),
    ));
  cleanup.push({ name: "queue", close: () => queue.close({ timeoutMs: 10_000 }) });

  const engine = new VmEngine({
    // Warm starts: templates under <state>/templates, made and dropped by this process only.
    ...(config.warmStarts
      ? {
          warm: {
            dir: join(config.stateDir, "templates"),
            enabledFor: (image) => image.warmStart !== false,
            settleFor: (image) => image.settle,
            onEvent: (event) => metrics.observeWarm(event),
          },
        }
      : {}),
    ...deps.engine,
    stateDir: vmRoot,
    host: hostId,
    logger: logger.child({ component: "vm" }),
  });
  const scheduler = new CapacityScheduler<QueuedJob>({
    global: config.maxConcurrency,
    perLabel: config.capacityMap,
    known: imageMap.images.keys(),
  });
  const metrics = new OrchestratorMetrics({ labels: imageMap.images.keys() });
  const unwatchQueue = watchQueueDiagnostics({
    publishFailed: (failure) => metrics.observePublishFailure(failure),
    deadLettered: (event) => metrics.observeDeadLetter(event),
  });
  cleanup.push({ name: "queue metrics", close: async () => unwatchQueue() });
  const debugSsh = new DebugSsh({
    engine,
    store,
    hostId,
    ttlSecs: config.debugSshTtlSecs,
    jumpHost: config.debugSshHost,
    logger,
  });
  const runner = new JobRunner({
    engine,
    store,
    queue,
    scheduler,
    hostId,
    metrics,
    logger,
    keepVm: debugSsh.keepVm,
    intakeBuffer: deps.intakeBuffer,
    jobTimeoutSecs: config.jobTimeoutSecs,
  });
  cleanup.push({
    name: "jobs",
    close: async () => {
      await runner.cancelAll("the orchestrator failed to start");
      await runner.settled();
    },
  });

  const recovery = await step("start-up recovery", () =>
    recoverOnStart({ store, hostId, vmRoot, queue, runner, imageMap, logger }),
  );
  const { plan } = recovery;
  logger.info(
    {
      hostId,
      killed: plan.kill.length,
      vmsDestroyed: plan.markVmsDestroyed.length,
      failed: plan.failJobs.length,
      requeued: plan.requeueJobs.length,
      errors: recovery.errors.length,
    },
    "start-up recovery done",
  );

  if (engine.warm !== undefined) {
    const warm = engine.warm;
    // What a previous run left is useless (its template keys died with it): removed now.
    await step("warm templates", () => warm.init());
    cleanup.push({ name: "warm templates", close: () => warm.close() });
    for (const label of config.warmPrewarm) {
      const image = imageMap.images.get(imageMap.aliases.get(label) ?? label);
      if (image === undefined || !warm.enabled(image)) {
        logger.warn({ label }, "WARM_PREWARM names no warm-started image of the image map; ignored");
        continue;
      }
      // In the background: jobs are taken meanwhile (they boot cold until it is ready).
      void warm.warm(image).then(
        (view) => logger.info({ label, state: view.state, error: view.error }, "warm template pre-built"),
        (error: unknown) => logger.warn({ label, err: error }, "warm template pre-build failed"),
      );
    }
  }

  // This host's row in the fleet table (`/v1/fleet`, `ciadm fleet`); embedded mode keeps one too.
  const fleetHosts = new FleetHostStore(db);
  const servedLabels = [...imageMap.images.keys()];
  const heartbeat = new FleetHeartbeat({
    store: fleetHosts,
    hostId,
    version: ORCHESTRATOR_VERSION,
    intervalMs: config.fleetHeartbeatSecs * 1000,
    facts: () => ({
      labels: Object.fromEntries(servedLabels.map((label) => [label, scheduler.limitFor(label)])),
      capacity: config.maxConcurrency,
      runningJobs: runner.running,
    }),
    logger,
  });

  const cancels = new CancelListener({ queue, store, runner, hostId, logger });
  await step("cancel listener", () => cancels.start());
  cleanup.push({ name: "cancel listener", close: () => cancels.stop() });

  let app: FastifyInstance | undefined;
  let httpUrl: string | undefined;
  if (deps.http !== false) {
    const http = await step("HTTP API", async () => {
      const built = await buildApp({
        store,
        hostId,
        cancel: httpCancel({ runner, store, queue, hostId, logger }),
        probes: {
          database: () => store.ping(),
          broker: async () => {
            if (queue instanceof AmqpJobQueue && !queue.broker.connected) {
              throw new Error(`not connected to RabbitMQ at ${queue.broker.displayUrl}`);
            }
          },
        },
        capacity: () => scheduler.inUse(),
        metrics,
        token: config.http.token,
        images: imageTemplates(imageMap, engine.warm),
        fleet: fleetOverview({
          fleet: fleetHosts,
          queue,
          hostId,
          servedLabels,
          heartbeatMs: config.fleetHeartbeatSecs * 1000,
        }),
        queueDepths: () => readQueueDepths(queue, servedLabels),
      });
      try {
        return { app: built, ...(await listenHttpApi(built, config.http)) };
      } catch (error) {
        await built.close();
        throw error;
      }
    });
    app = http.app;
    httpUrl = http.url;
    cleanup.push({ name: "HTTP API", close: () => http.app.close() });
  }

  const intake = new JobIntake({
    queue,
    store,
    runner,
    imageMap,
    hostId,
    prefetch: config.queue.mq.prefetch,
    metrics,
    logger,
    limits: config.intakeLimits,
    labelCapacity: (label) => scheduler.limitFor(label),
  });
  await step("job intake", () => intake.start());
  cleanup.push({ name: "job intake", close: () => intake.stop() });
  const router = new JobRouter({
    queue,
    imageMap,
    hostId,
    logger,
    metrics,
    prefetch: config.queue.mq.prefetch,
    maxMessageBytes: config.intakeLimits.maxRequestBytes,
  });
  await step("job router", () => router.start());
  await heartbeat.start();
  cleanup.push({ name: "fleet heartbeat", close: () => heartbeat.stop() });

  logger.info(
    {
      hostId,
      mode: config.embedded ? "embedded" : "fleet",
      queue: config.queue.kind,
      database: describeDatabaseTarget(config.database),
      maxConcurrency: config.maxConcurrency,
      labelQueues: intake.queues,
      http: httpUrl,
      stateDir: config.stateDir,
    },
    "orchestrator started",
  );

  let stopping: Promise<ShutdownReport> | undefined;
  let skip: (() => void) | undefined;
  const skipDrain = new Promise<void>((resolve) => {
    skip = resolve;
  });
  return {
    config,
    hostId,
    queue,
    store,
    engine,
    metrics,
    httpUrl,
    recovery,
    load: () => ({ running: runner.running, queued: runner.queued }),
    skipDrain: () => skip?.(),
    stop: (options = {}) => {
      stopping ??= shutdown(
        {
          stopIntake: async () => {
            await Promise.all([router.stop(), intake.stop(), heartbeat.draining()]);
          },
          whenIdle: (ms) => runner.whenIdle(ms),
          cancelAll: (reason) => runner.cancelAll(reason),
          settled: () => runner.settled(),
          closers: [
            { name: "cancel listener", close: () => cancels.stop() },
            { name: "debug SSH VMs", close: () => debugSsh.releaseAll() },
            ...(engine.warm === undefined
              ? []
              : [{ name: "warm templates", close: () => engine.warm?.close() ?? Promise.resolve() }]),
            ...(app === undefined ? [] : [{ name: "HTTP API", close: () => app.close() }]),
            { name: "fleet heartbeat", close: () => heartbeat.stop() },
            { name: "queue", close: () => queue.close({ timeoutMs: 10_000 }) },
            { name: "database", close: () => db.destroy() },
            { name: "queue metrics", close: async () => unwatchQueue() },
          ],
          logger,
        },
        { drainTimeoutMs: options.drainTimeoutMs ?? config.drainTimeoutSecs * 1000, skipDrain },
      );
      return stopping;
    },
  };
}

/**
 * `solstice-orchestrator migrate`: brings the database (Postgres, or the embedded PGlite under
 * STATE_DIR) to the newest schema and returns the migrations it applied.
 */
export async function migrateDatabase(config: ServiceConfig): Promise<string[]> {
  if (config.database.kind === "pglite") await mkdir(config.stateDir, { recursive: true, mode: 0o700 });
  const db = await openDatabase(config.database);
  try {
    return await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
}
