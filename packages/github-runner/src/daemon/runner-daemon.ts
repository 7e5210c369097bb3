import { hostname } from "node:os";
import { join } from "node:path";
import { AmqpJobQueue, type JobOwner, type MqConfig, type Subscription } from "@solstice/common";
import {
  type HealthServer,
  type HttpAddr,
  RunnerMetrics,
  startRunnerHealthServer,
  TaskJournal,
} from "@solstice/runner-core";
import type { Logger } from "pino";
import { runnerTokenProvider } from "../auth/runner-token-provider.ts";
import type { FetchFunction } from "../http/http-call.ts";
import { measuredFetch } from "../http/measured-fetch.ts";
import { LegacyRunnerServer } from "../legacy/legacy-runner-server.ts";
import { appJitConfig, type GitHubAppCredentials } from "../registration/github-app.ts";
import { parseGitHubUrl } from "../registration/github-urls.ts";
import { runnerLabels } from "../registration/runner-labels.ts";
import { jobJournalSchema } from "../report/job-journal-entry.ts";
import { decodeJitConfig } from "../settings/jit-config.ts";
import { type RunnerConfiguration, readRunnerConfiguration } from "../settings/runner-files.ts";
import { runAppRunnerPool } from "./app-runner-pool.ts";
import { JobTokenStore } from "./job-token-store.ts";
import { LegacyRunnerListener } from "./legacy-runner-listener.ts";
import { type ListenerEnd, RunnerListener } from "./runner-listener.ts";
import { RunningJobs } from "./running-jobs.ts";
import { SessionMarker } from "./session-marker.ts";

// The daemon: connect the queue, resume the jobs the journal names, consume the job events of
// every owner it (or its journal) has, and listen with its runner(s): the registered runner of
// the state directory, one JIT runner (one job, then `done`), or the App's pool of ephemeral
// runners. Stopping ends the listeners (their sessions are deleted) and the reporters; running
// jobs resume from the journal on the next start. A runner registered on a GHES without the
// broker (`.runner` useV2Flow false) listens the legacy way (legacy-runner-listener.ts).

/** Which runner(s) listen. */
export type DaemonMode =
  | { readonly kind: "registered" }
  | { readonly kind: "jit"; readonly encoded: string }
  | {
      readonly kind: "app";
      readonly app: GitHubAppCredentials;
      /** `https://github.com/<owner>/<repo>` or `…/<org>`. */
      readonly target: string;
      readonly capacity: number;
      readonly namePrefix: string;
      readonly runnerGroup?: string;
    };

/** What the daemon needs. */
export interface RunnerDaemonConfig {
  readonly mode: DaemonMode;
  /** The runner's files (registered mode), the journal (`jobs/`) and the job tokens (`.job-tokens/`). */
  readonly stateDir: string;
  /** The image labels the runner offers (names). */
  readonly labels: readonly string[];
  /** The image every job runs on (see job/image-label.ts); default the first label. */
  readonly imageLabel?: string;
  readonly mq: MqConfig;
  readonly checkoutUrl?: string;
  readonly reportIntervalMs?: number;
  readonly cancelGraceMs?: number;
  readonly removedRetryMs?: number;
  /** Unacknowledged events held at once: a running step's events wait until its log is uploaded. */
  readonly eventPrefetch?: number;
  readonly fetch?: FetchFunction;
  /** Where `/healthz`, `/readyz` and `/metrics` answer; undefined: no HTTP port. */
  readonly httpAddr?: HttpAddr | undefined;
}

/** A running daemon. */
export interface RunnerDaemon {
  readonly jobs: RunningJobs;
  /** Resolves when the listeners ended by themselves (a JIT runner's job is complete, or GitHub said shut down). */
  readonly done: Promise<ListenerEnd | "stopped">;
  readonly metrics: RunnerMetrics;
  /** Where the health and metrics port answers (`http://127.0.0.1:9466`), undefined without it. */
  readonly httpUrl: string | undefined;
  stop(): Promise<void>;
}

/** The owner instance of a registered (or JIT) runner's events: `<GitHub or server URL>#<agent id>`. */
export function runnerInstance(configuration: RunnerConfiguration): string {
  const { settings } = configuration;
  return `${(settings.gitHubUrl ?? settings.serverUrl).replace(/\/+$/, "")}#${settings.agentId}`;
}

/** The owner instance of an App pool (one event queue for all its ephemeral runners). */
export function appInstance(target: string, appId: number | string): string {
  return `${parseGitHubUrl(target).url.replace(/\/+$/, "")}#app-${appId}`;
}

/** Starts the daemon. Throws when the configuration is missing or the queue is unreachable. */
export async function startRunnerDaemon(
  daemonConfig: RunnerDaemonConfig,
  logger: Logger,
): Promise<RunnerDaemon> {
  const metrics = new RunnerMetrics();
  // Every GitHub call, timed and its errors counted (the listeners, the reporters, the tokens).
  const config: RunnerDaemonConfig = {
    ...daemonConfig,
    fetch: measuredFetch(daemonConfig.fetch ?? fetch, (call) => metrics.observeForgeCall(call)),
  };
  const { mode } = config;
  // Read before connecting: a missing registration is a usage error, not a queue problem.
  const single =
    mode.kind === "registered"
      ? await readRunnerConfiguration(config.stateDir)
      : mode.kind === "jit"
        ? decodeJitConfig(mode.encoded)
        : undefined;
  const instance =
    single !== undefined
      ? runnerInstance(single)
      : mode.kind === "app"
        ? appInstance(mode.target, mode.app.appId)
        : "";
  const queue = await AmqpJobQueue.connect({
    config: config.mq,
    connectionName: `solstice-github-runner@${hostname()}`,
  });
  const journal = new TaskJournal(join(config.stateDir, "jobs"), jobJournalSchema);
  // The registered (or JIT) runner's token provider, shared by its listener and, in the legacy
  // flow, by its jobs' renewals (the job requests are the runner's, not the job's).
  const singleTokens = single === undefined ? undefined : runnerTokenProvider(single, config.fetch);
  const legacyServer =
    single === undefined || singleTokens === undefined
      ? undefined
      : (serverUrl: string, poolId: number) =>
          new LegacyRunnerServer({
            tenantUrl: serverUrl,
            poolId,
            tokens: singleTokens,
            ...(config.fetch === undefined ? {} : { fetch: config.fetch }),
          });
  const jobs = new RunningJobs({
    onStarted: () => metrics.taskStarted(),
    queue,
    journal,
    tokens: new JobTokenStore(join(config.stateDir, ".job-tokens")),
    logger,
    requestedBy: `github-runner@${instance}`,
    labels: config.labels,
    ...((config.imageLabel ?? config.labels[0]) === undefined
      ? {}
      : { runsOn: config.imageLabel ?? config.labels[0] }),
    ...(config.checkoutUrl === undefined ? {} : { checkoutUrl: config.checkoutUrl }),
    ...(config.reportIntervalMs === undefined ? {} : { reportIntervalMs: config.reportIntervalMs }),
    ...(config.cancelGraceMs === undefined ? {} : { cancelGraceMs: config.cancelGraceMs }),
    ...(config.fetch === undefined ? {} : { fetch: config.fetch }),
    ...(legacyServer === undefined ? {} : { legacyServer }),
  });
  await jobs.resume(
    await journal.load((file, problem) => logger.error({ file, problem }, "unreadable job journal: ignored")),
  );
  const subscriptions: Subscription[] = [];
  for (const owner of new Set([instance, ...jobs.instances()])) {
    const eventOwner: Pick<JobOwner, "kind" | "instance"> = { kind: "github", instance: owner };
    subscriptions.push(
      await queue.consumeEvents(
        eventOwner,
        async (event) => {
          await jobs.onEvent(event);
          if (event.type === "job_finished") metrics.taskFinished(event.conclusion);
        },
        { prefetch: config.eventPrefetch ?? 20_000 },
      ),
    );
  }

  const listen = (
    configuration: RunnerConfiguration,
    signal: AbortSignal,
    sessionMarker?: SessionMarker,
  ): Promise<ListenerEnd> => {
    const tokens =
      configuration === single && singleTokens !== undefined
        ? singleTokens
        : runnerTokenProvider(configuration, config.fetch);
    const common = {
      configuration,
      ...(sessionMarker === undefined ? {} : { sessionMarker }),
      tokens,
      jobs,
      instance,
      logger,
      ...(config.removedRetryMs === undefined ? {} : { removedRetryMs: config.removedRetryMs }),
    };
    const { settings } = configuration;
    if (!settings.useV2Flow && legacyServer !== undefined) {
      // GHES without the broker: the legacy message flow (encrypted sessions at the tenant).
      return new LegacyRunnerListener({
        ...common,
        server: legacyServer(settings.serverUrl, settings.poolId),
      }).run(signal);
    }
    return new RunnerListener({
      ...common,
      ...(config.fetch === undefined ? {} : { fetch: config.fetch }),
    }).run(signal);
  };

  let health: HealthServer | undefined;
  if (config.httpAddr !== undefined) {
    try {
      health = await startRunnerHealthServer({
        addr: config.httpAddr,
        metrics,
        running: () => jobs.size,
        broker: queue.broker,
      });
    } catch (error) {
      for (const subscription of subscriptions)
        await subscription.cancel({ timeoutMs: 500 }).catch(() => undefined);
      await queue.close({ timeoutMs: 500 });
      throw error;
    }
    logger.info({ url: health.url }, "health and metrics port open");
  }

  const stopListening = new AbortController();
  let listening: Promise<ListenerEnd | "stopped">;
  if (single !== undefined) {
    logger.info(
      {
        runner: single.settings.agentName,
        agentId: single.settings.agentId,
        labels: config.labels,
        mode: mode.kind,
      },
      "starting the GitHub runner",
    );
    // A registered runner's session outlives a process that dies; a JIT runner's dies with it.
    const marker =
      mode.kind === "registered" ? new SessionMarker(join(config.stateDir, ".session")) : undefined;
    listening = listen(single, stopListening.signal, marker);
  } else if (mode.kind === "app") {
    logger.info(
      { target: mode.target, capacity: mode.capacity, labels: config.labels },
      "starting the GitHub runner (App mode)",
    );
    const labels = runnerLabels({ extra: config.labels });
    listening = runAppRunnerPool(
      {
        capacity: mode.capacity,
        namePrefix: mode.namePrefix,
        mint: ({ name }) =>
          appJitConfig(mode.app, {
            url: mode.target,
            name,
            labels,
            ...(mode.runnerGroup === undefined ? {} : { runnerGroup: mode.runnerGroup }),
          }),
        listen,
        logger,
      },
      stopListening.signal,
    ).then(() => "stopped" as const);
  } else {
    throw new Error("unreachable: no runner to listen with");
  }
  // A listener that ends by itself (JIT job complete, shutdown asked) still lets its job finish.
  let jitComplete = false;
  const done = listening.then(async (end) => {
    if (end !== "stopped") await jobs.whenIdle(single?.settings.agentId ?? -1);
    jitComplete = mode.kind === "jit" && end === "job-done";
    return end;
  });

  let stopping: Promise<void> | undefined;
  return {
    jobs,
    done,
    metrics,
    httpUrl: health?.url,
    stop() {
      stopping ??= (async () => {
        stopListening.abort();
        await listening;
        await jobs.stop();
        for (const subscription of subscriptions)
          await subscription.cancel({ timeoutMs: 500 }).catch(() => undefined);
        if (jitComplete) {
          // A JIT runner is gone for good once its job is complete: so is its (empty) event queue.
          const deleted = await queue
            .deleteEvents({ kind: "github", instance })
            .catch((error: unknown) =>
              logger.warn({ err: error }, "cannot delete the JIT runner's event queue"),
            );
          if (deleted === false)
            logger.warn({ instance }, "the JIT runner's event queue still holds events: kept");
        }
        // Unacknowledged events go back to the queue with the connection.
        await queue.close({ timeoutMs: 500 });
        await health?.close();
        logger.info({ running: jobs.size }, "GitHub runner stopped");
      })();
      return stopping;
    },
  };
}
