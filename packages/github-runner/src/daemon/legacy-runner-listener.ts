import { hostname, release as osRelease, type as osType } from "node:os";
import type { Logger } from "pino";
import type { AccessTokenProvider } from "../auth/access-token.ts";
import { decideMessage } from "../broker/message-decision.ts";
import { ActionsServiceError, RunnerRemovedError } from "../errors.ts";
import { parseJobMessage } from "../job/job-message.ts";
import { type LegacyMessage, PIPELINE_AGENT_JOB_REQUEST } from "../legacy/legacy-api.ts";
import type { LegacyRunnerServer } from "../legacy/legacy-runner-server.ts";
import { decryptMessageBody, sessionKey } from "../legacy/message-decryption.ts";
import { archLabel, osLabel } from "../registration/runner-labels.ts";
import type { RunnerConfiguration } from "../settings/runner-files.ts";
import { RUNNER_PROTOCOL_VERSION } from "../version.ts";
import {
  createSessionWithRetry,
  type ListenerSleep,
  PollFailures,
  RunnerGoneNotice,
  realSleep,
} from "./listener-retry.ts";
import type { ListenerEnd } from "./runner-listener.ts";
import type { JobRunner, RunningJobs } from "./running-jobs.ts";
import type { SessionMarker } from "./session-marker.ts";

// One registered runner's listener in the legacy flow (GHES answering `use_v2_flow: false`), as
// the reference runner's MessageListener and Runner: an encrypted session at the tenant (a
// conflict retried every 30 s for up to 4 min), long polls naming the last message id, each
// message decrypted with the session key, handled, then DELETEd (an undeleted message comes back
// to the next session). A `PipelineAgentJobRequest` carries the job message itself: it is handed
// to RunningJobs (first renewal, journal, orchestrators) and its message deleted, as the
// reference runner does. The session is deleted when the listener ends.

/** Options of {@link LegacyRunnerListener}. */
export interface LegacyRunnerListenerOptions {
  readonly configuration: RunnerConfiguration;
  readonly tokens: AccessTokenProvider;
  readonly server: LegacyRunnerServer;
  readonly jobs: RunningJobs;
  readonly instance: string;
  readonly logger: Logger;
  readonly removedRetryMs?: number;
  readonly sessionMarker?: SessionMarker;
  /** For tests: resolves after `ms` or when `signal` aborts. */
  readonly sleep?: ListenerSleep;
}

interface OpenSession {
  readonly sessionId: string;
  readonly key: Buffer | undefined;
}

/** The legacy listener of one runner. */
export class LegacyRunnerListener {
  readonly #options: LegacyRunnerListenerOptions;
  readonly #log: Logger;
  readonly #runner: JobRunner;
  readonly #ephemeral: boolean;
  #tookJob = false;
  /** Jobs handed to RunningJobs and not yet complete there. */
  #starting = 0;
  #wake = new AbortController();
  readonly #gone: RunnerGoneNotice;
  #lastMessageId: number | undefined;

  constructor(options: LegacyRunnerListenerOptions) {
    this.#options = options;
    const { settings } = options.configuration;
    this.#runner = { agentId: settings.agentId, name: settings.agentName, instance: options.instance };
    this.#ephemeral = settings.ephemeral;
    this.#log = options.logger.child({
      runner: settings.agentName,
      agentId: settings.agentId,
      flow: "legacy",
    });
    this.#gone = new RunnerGoneNotice(
      this.#log,
      options.tokens,
      options.removedRetryMs ?? 5 * 60_000,
      (ms, signal) => this.#sleep(ms, signal),
    );
  }

  get runner(): JobRunner {
    return this.#runner;
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return (this.#options.sleep ?? realSleep)(ms, signal);
  }

  #busy(): boolean {
    return this.#starting > 0 || this.#options.jobs.busy(this.#runner.agentId);
  }

  /** Listens until `signal` aborts, the service asks the runner to shut down, or an ephemeral runner's job is complete. */
  async run(signal: AbortSignal): Promise<ListenerEnd> {
    if (this.#ephemeral && this.#busy()) {
      this.#tookJob = true;
      void this.#options.jobs.whenIdle(this.#runner.agentId).then(() => this.#wake.abort());
    }
    await this.#deleteLeftSession();
    for (;;) {
      const session = await this.#createSession(signal);
      if (session === undefined) return "stopped";
      await this.#options.sessionMarker?.set(session.sessionId);
      this.#log.info(
        { sessionId: session.sessionId, encrypted: session.key !== undefined },
        "listening for jobs",
      );
      const end = await this.#poll(session, signal);
      if (end === "recreate") continue;
      await this.#deleteSession(session.sessionId);
      return end;
    }
  }

  #createSession(signal: AbortSignal): Promise<OpenSession | undefined> {
    const { settings, key } = this.#options.configuration;
    return createSessionWithRetry(
      async () => {
        const session = await this.#options.server.createSession(
          {
            ownerName: `${hostname()} (PID: ${process.pid})`,
            agent: {
              id: settings.agentId,
              name: settings.agentName,
              version: RUNNER_PROTOCOL_VERSION,
              osDescription: `${osType()} ${osRelease()}`,
            },
          },
          signal,
        );
        // A new session starts the message ids over: undeleted messages come again.
        this.#lastMessageId = undefined;
        return {
          sessionId: session.sessionId,
          key: sessionKey(session.encryptionKey, key, session.useFipsEncryption ?? false),
        };
      },
      {
        signal,
        gone: this.#gone,
        sleep: (ms, s) => this.#sleep(ms, s),
        log: this.#log,
        failureMessage: "cannot create the session",
      },
    );
  }

  async #poll(session: OpenSession, signal: AbortSignal): Promise<ListenerEnd | "recreate"> {
    const failures = new PollFailures();
    const { settings } = this.#options.configuration;
    while (!signal.aborted) {
      if (this.#ephemeral && this.#tookJob && !this.#busy()) return "job-done";
      let message: LegacyMessage | undefined;
      try {
        message = await this.#options.server.getMessage(
          {
            sessionId: session.sessionId,
            lastMessageId: this.#lastMessageId,
            status: this.#busy() ? "Busy" : "Online",
            runnerVersion: RUNNER_PROTOCOL_VERSION,
            os: osLabel(),
            architecture: archLabel(),
            disableUpdate: settings.disableUpdate,
          },
          AbortSignal.any([signal, this.#wake.signal]),
        );
        failures.reset();
      } catch (error) {
        if (signal.aborted) return "stopped";
        if (this.#wake.signal.aborted) {
          this.#wake = new AbortController();
          continue;
        }
        if (error instanceof RunnerRemovedError) {
          if (this.#ephemeral && this.#tookJob) {
            await this.#options.jobs.whenIdle(this.#runner.agentId);
            return "job-done";
          }
          await this.#gone.wait(error, signal);
          return "recreate";
        }
        if (error instanceof ActionsServiceError && error.status === 404) {
          this.#log.info("the session expired; creating a new one");
          return "recreate";
        }
        const next = await failures.next(error, {
          signal,
          sleep: (ms, s) => this.#sleep(ms, s),
          log: this.#log,
          failureMessage: "cannot get a message",
        });
        if (next === "recreate") return "recreate";
        continue;
      }
      if (message === undefined) continue;
      this.#lastMessageId = message.messageId;
      const { end, keep } = await this.#handle(message, session, signal);
      if (!keep) {
        await this.#options.server
          .deleteMessage(message.messageId, session.sessionId, AbortSignal.timeout(30_000))
          .catch((error: unknown) =>
            this.#log.warn({ err: error, messageId: message.messageId }, "cannot delete the message"),
          );
      }
      if (end !== undefined) return end;
    }
    return "stopped";
  }

  /** Handles one message; `keep`: leave it undeleted (it comes back to the next session). */
  async #handle(
    message: LegacyMessage,
    session: OpenSession,
    signal: AbortSignal,
  ): Promise<{ end?: ListenerEnd; keep: boolean }> {
    const log = this.#log.child({ messageId: message.messageId, messageType: message.messageType });
    let body: string;
    try {
      body = decryptMessageBody(message.body, message.iv, session.key);
    } catch (error) {
      log.error({ err: error }, "cannot decrypt the message (dropped)");
      return { keep: false };
    }
    if (message.messageType.toLowerCase() === PIPELINE_AGENT_JOB_REQUEST.toLowerCase()) {
      if (this.#ephemeral && this.#tookJob) {
        // As the reference: a one-job runner leaves further job requests for another runner.
        log.info("a job request after this ephemeral runner's job: left for another runner");
        return { keep: true };
      }
      return { keep: false, ...(await this.#startJob(body, log, signal)) };
    }
    const decision = decideMessage(
      { messageId: message.messageId, messageType: message.messageType, body },
      { acceptingJobs: false },
    );
    switch (decision.action) {
      case "cancel-job":
        if (!this.#options.jobs.cancel(decision.jobId))
          log.info({ jobId: decision.jobId }, "cancellation of a job not running here");
        return { keep: false };
      case "refresh-token":
        this.#options.tokens.invalidate();
        log.info("the service asked for a new access token");
        return { keep: false };
      case "shutdown":
        log.warn({ reason: decision.reason }, "the service asked the runner to shut down");
        return { end: "shutdown", keep: false };
      case "acquire-job":
      case "migrate-broker":
        log.warn("a broker-flow message in a legacy session (dropped)");
        return { keep: false };
      case "ignore":
        log[decision.level](decision.reason);
        return { keep: false };
    }
  }

  async #startJob(body: string, log: Logger, signal: AbortSignal): Promise<{ end?: ListenerEnd }> {
    let job: ReturnType<typeof parseJobMessage>;
    try {
      job = parseJobMessage(JSON.parse(body) as unknown);
    } catch (error) {
      log.error({ err: error }, "unreadable job message (dropped)");
      return {};
    }
    if (signal.aborted) return {};
    const { settings } = this.#options.configuration;
    if (this.#ephemeral) this.#tookJob = true;
    log.info({ jobId: job.jobId, requestId: job.requestId, job: job.jobDisplayName }, "job received");
    // Not awaited (it resolves once the job is complete): polls go on while it runs, so that a
    // cancellation gets through. The runner reports Busy meanwhile.
    this.#starting += 1;
    void this.#options.jobs
      .start(job, this.#runner, { serverUrl: settings.serverUrl, poolId: settings.poolId })
      .catch((error: unknown) => log.error({ err: error, jobId: job.jobId }, "cannot run the job"))
      .finally(() => {
        this.#starting -= 1;
        this.#wake.abort();
      });
    return {};
  }

  async #deleteSession(sessionId: string): Promise<void> {
    try {
      await this.#options.server.deleteSession(sessionId, AbortSignal.timeout(10_000));
      await this.#options.sessionMarker?.clear();
    } catch (error) {
      this.#log.debug({ err: error }, "cannot delete the session (it expires by itself)");
    }
  }

  /** A session the last process left (it died without deleting it): delete it before making one. */
  async #deleteLeftSession(): Promise<void> {
    const marker = this.#options.sessionMarker;
    const left = await marker?.left();
    if (marker === undefined || left === undefined) return;
    this.#log.info({ sessionId: left }, "the last run did not end its session; ending it first");
    if (left === "unknown") {
      await marker.clear();
      return;
    }
    await this.#deleteSession(left);
  }
}
