import { hostname, release as osRelease, type as osType } from "node:os";
import type { Logger } from "pino";
import type { AccessTokenProvider } from "../auth/access-token.ts";
import { decideMessage } from "../broker/message-decision.ts";
import { ActionsServiceError } from "../errors.ts";
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
  pollFailureOutcome,
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
// to RunningJobs (first renewal, journal, orchestrators) and its message deleted only once the
// job is journaled, so a crash in between loses nothing: the restarted daemon resumes the job
// from the journal, and the message, delivered again, is recognised and only deleted. The
// session is deleted when the listener ends.

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
        const next = await pollFailureOutcome(error, {
          signal,
          wake: this.#wake.signal,
          ephemeralTookJob: this.#ephemeral && this.#tookJob,
          whenIdle: () => this.#options.jobs.whenIdle(this.#runner.agentId),
          // A 404 that is not the agent's (that one is RunnerRemovedError): the session's.
          sessionExpired: (e) => e instanceof ActionsServiceError && e.status === 404,
          gone: this.#gone,
          failures,
          sleep: (ms, s) => this.#sleep(ms, s),
          log: this.#log,
          failureMessage: "cannot get a message",
        });
        if (next === "woken") this.#wake = new AbortController();
        if (next === "woken" || next === "retry") continue;
        return next;
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
      return this.#startJob(body, log, signal);
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

  /**
   * Hands a job request to RunningJobs and waits until it is journaled (not until it is
   * complete: polls go on while it runs, so that a cancellation gets through, saying Busy).
   * `keep` when it could not be journaled: the message comes again to the next session.
   */
  async #startJob(body: string, log: Logger, signal: AbortSignal): Promise<{ keep: boolean }> {
    let job: ReturnType<typeof parseJobMessage>;
    try {
      job = parseJobMessage(JSON.parse(body) as unknown);
    } catch (error) {
      log.error({ err: error }, "unreadable job message (dropped)");
      return { keep: false };
    }
    if (signal.aborted) return { keep: true };
    const jobs = this.#options.jobs;
    if (jobs.knows(job.jobId)) {
      // Journaled by the last process, which died before deleting the message.
      log.info({ jobId: job.jobId }, "a job request delivered again for a job already journaled (deleted)");
      return { keep: false };
    }
    const { settings } = this.#options.configuration;
    if (this.#ephemeral) this.#tookJob = true;
    log.info({ jobId: job.jobId, requestId: job.requestId, job: job.jobDisplayName }, "job received");
    this.#starting += 1;
    try {
      const started = await jobs.start(job, this.#runner, {
        serverUrl: settings.serverUrl,
        poolId: settings.poolId,
      });
      void started?.finished.then(() => this.#wake.abort());
      return { keep: false };
    } catch (error) {
      log.error({ err: error, jobId: job.jobId }, "cannot start the job (its message is kept)");
      return { keep: true };
    } finally {
      this.#starting -= 1;
    }
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
