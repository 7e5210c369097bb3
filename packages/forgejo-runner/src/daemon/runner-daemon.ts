import { hostname } from "node:os";
import { AmqpJobQueue, type JobOwner, type MqConfig } from "@solstice/common";
import { ForgejoClient } from "@solstice/forgejo-protocol";
import {
  type HealthServer,
  type HttpAddr,
  labelNames,
  type RunnerLabel,
  RunnerMetrics,
  startRunnerHealthServer,
  TaskJournal,
} from "@solstice/runner-core";
import type { Logger } from "pino";
import { TaskPoller } from "../poller/task-poller.ts";
import { taskJournalSchema } from "../report/task-journal-entry.ts";
import { readRunnerState } from "../state/runner-state.ts";
import { RUNNER_VERSION, userAgent } from "../version.ts";
import { RunningTasks } from "./running-tasks.ts";

// The daemon: read the registration, declare labels and version, resume the tasks the journal
// names, consume this runner's job events, and poll Forgejo for tasks while there is capacity.

/** What the daemon needs. */
export interface RunnerDaemonConfig {
  readonly stateFile: string;
  /** The labels to declare (names only reach Forgejo). */
  readonly labels: readonly RunnerLabel[];
  /** Tasks at once. */
  readonly capacity: number;
  readonly mq: MqConfig;
  /** Where running tasks are journaled; default `<stateFile>.tasks`. */
  readonly journalDir?: string;
  readonly fetchIntervalMs?: number;
  readonly fetchTimeoutMs?: number;
  readonly reportIntervalMs?: number;
  readonly authRetryMs?: number;
  readonly cancelGraceMs?: number;
  /** Where checkouts fetch from instead of `<server_url>/<repository>`. */
  readonly checkoutUrl?: string;
  /** Where `/healthz`, `/readyz` and `/metrics` answer; undefined: no HTTP port. */
  readonly httpAddr?: HttpAddr | undefined;
}

/** A running daemon. */
export interface RunnerDaemon {
  /** This runner's events arrive on the queue of this owner. */
  readonly owner: Pick<JobOwner, "kind" | "instance">;
  readonly poller: TaskPoller;
  readonly tasks: RunningTasks;
  readonly metrics: RunnerMetrics;
  /** Where the health and metrics port answers (`http://127.0.0.1:9465`), undefined without it. */
  readonly httpUrl: string | undefined;
  /** Stops polling and reporting; running tasks resume from the journal on the next start. */
  stop(): Promise<void>;
}

/** The owner of this runner's jobs: one event queue per registered runner. */
export function runnerOwner(address: string, uuid: string): Pick<JobOwner, "kind" | "instance"> {
  return { kind: "forgejo", instance: `${address}#${uuid}` };
}

/** Starts the daemon. Throws when the state file is missing or the queue is unreachable. */
export async function startRunnerDaemon(config: RunnerDaemonConfig, logger: Logger): Promise<RunnerDaemon> {
  const state = await readRunnerState(config.stateFile);
  const metrics = new RunnerMetrics();
  const client = new ForgejoClient({
    instance: state.address,
    credentials: { uuid: state.uuid, token: state.token },
    userAgent: userAgent(),
    onCall: (call) => metrics.observeForgeCall(call),
  });
  const names = labelNames(config.labels);
  logger.info(
    { instance: state.address, runner: state.name, labels: names, capacity: config.capacity },
    "starting the Forgejo runner",
  );
  try {
    const declared = await client.declare(RUNNER_VERSION, names);
    if (declared === undefined) logger.warn("this Forgejo does not know Declare; labels stay as registered");
    else logger.info({ labels: declared.labels }, "labels and version declared");
  } catch (error) {
    // The poller says it again, clearly and slowly, if the credentials are refused.
    logger.error({ err: error }, "cannot declare the runner's labels");
  }

  const queue = await AmqpJobQueue.connect({
    config: config.mq,
    connectionName: `solstice-forgejo-runner@${hostname()}`,
  });
  const owner = runnerOwner(state.address, state.uuid);
  const journal = new TaskJournal(config.journalDir ?? `${config.stateFile}.tasks`, taskJournalSchema);
  const tasks = new RunningTasks({
    client,
    queue,
    journal,
    logger,
    runner: { name: state.name },
    owner,
    requestedBy: `forgejo-runner@${state.address}`,
    ...(config.reportIntervalMs === undefined ? {} : { reportIntervalMs: config.reportIntervalMs }),
    ...(config.cancelGraceMs === undefined ? {} : { cancelGraceMs: config.cancelGraceMs }),
    ...(config.checkoutUrl === undefined ? {} : { checkoutUrl: config.checkoutUrl }),
  });
  tasks.resume(
    await journal.load((file, problem) =>
      logger.error({ file, problem }, "unreadable task journal: ignored"),
    ),
  );
  // Events are acknowledged once Forgejo holds their rows: room for a few report intervals' worth.
  const subscription = await queue.consumeEvents(
    owner,
    async (event) => {
      await tasks.onEvent(event);
      if (event.type === "job_finished") metrics.taskFinished(event.conclusion);
    },
    { prefetch: 4000 },
  );

  const poller = new TaskPoller({
    client,
    logger,
    whenFree: (signal) => tasks.whenBelow(config.capacity, signal),
    onTask: (task, fetch) => {
      metrics.taskStarted();
      tasks.start(task, fetch).catch((error: unknown) => {
        logger.error({ taskId: task.id.toString(), err: error }, "cannot start the task");
      });
    },
    ...(config.fetchIntervalMs === undefined ? {} : { fetchIntervalMs: config.fetchIntervalMs }),
    ...(config.fetchTimeoutMs === undefined ? {} : { fetchTimeoutMs: config.fetchTimeoutMs }),
    ...(config.authRetryMs === undefined ? {} : { authRetryMs: config.authRetryMs }),
  });
  let health: HealthServer | undefined;
  if (config.httpAddr !== undefined) {
    try {
      health = await startRunnerHealthServer({
        addr: config.httpAddr,
        metrics,
        running: () => tasks.size,
        broker: queue.broker,
      });
    } catch (error) {
      await subscription.cancel({ timeoutMs: 500 }).catch(() => undefined);
      await queue.close({ timeoutMs: 500 });
      client.close();
      throw error;
    }
    logger.info({ url: health.url }, "health and metrics port open");
  }

  const stopPolling = new AbortController();
  const polling = poller.run(stopPolling.signal);

  let stopping: Promise<void> | undefined;
  return {
    owner,
    poller,
    tasks,
    metrics,
    httpUrl: health?.url,
    stop() {
      stopping ??= (async () => {
        stopPolling.abort();
        await polling;
        await tasks.stop();
        await subscription.cancel({ timeoutMs: 500 }).catch(() => undefined);
        // Unacknowledged events go back to the queue with the connection.
        await queue.close({ timeoutMs: 500 });
        client.close();
        await health?.close();
        logger.info({ running: tasks.size }, "Forgejo runner stopped");
      })();
      return stopping;
    },
  };
}
