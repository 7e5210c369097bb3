import { release as osRelease, type as osType } from "node:os";
import type { Logger } from "pino";
import type { AccessTokenProvider } from "../auth/access-token.ts";
import {
  BrokerClient,
  BrokerErrorKinds,
  type BrokerSession,
  type PollIdentity,
} from "../broker/broker-client.ts";
import type { BrokerMessage } from "../broker/broker-messages.ts";
import { decideMessage } from "../broker/message-decision.ts";
import { ActionsServiceError, RunnerSettingsError } from "../errors.ts";
import type { FetchFunction } from "../http/http-call.ts";
import { archLabel, osLabel } from "../registration/runner-labels.ts";
import { acquireFailure } from "../run-service/run-service-api.ts";
import { acquireJob } from "../run-service/run-service-client.ts";
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
import type { JobRunner, RunningJobs } from "./running-jobs.ts";
import type { SessionMarker } from "./session-marker.ts";

// One registered runner's listener, as the reference runner's BrokerMessageListener: a broker
// session (created with its retry rules, deleted when the listener ends), long polls that say
// Online or Busy, and each message's decision (broker/message-decision.ts) carried out. A job
// request is acknowledged when asked, acquired, and handed to RunningJobs without blocking the
// polls (a cancellation must get through while the job runs). A runner deleted on GitHub gives
// one clear error line, then a slow retry: no crash loop, no busy loop. An ephemeral runner
// (JIT, App mode) takes one job and ends once it is complete.

/** Why a listener ended. */
export type ListenerEnd = "stopped" | "job-done" | "shutdown";

/** Options of {@link RunnerListener}. */
export interface RunnerListenerOptions {
  readonly configuration: RunnerConfiguration;
  readonly tokens: AccessTokenProvider;
  readonly jobs: RunningJobs;
  /** The owner instance of this runner's job events. */
  readonly instance: string;
  readonly logger: Logger;
  /** Between attempts once GitHub says the runner is gone (or refuses it for good). Default 5 min. */
  readonly removedRetryMs?: number;
  /** Where the runner notes it holds a session (registered runners: `<state dir>/.session`). */
  readonly sessionMarker?: SessionMarker;
  readonly fetch?: FetchFunction;
  /** For tests: resolves after `ms` or when `signal` aborts. */
  readonly sleep?: ListenerSleep;
}

/** The listener of one runner. */
export class RunnerListener {
  readonly #options: RunnerListenerOptions;
  readonly #log: Logger;
  readonly #runner: JobRunner;
  readonly #ephemeral: boolean;
  #broker: BrokerClient;
  /** An ephemeral runner took its one job. */
  #tookJob = false;
  /** Jobs acquired and still being started (not yet visible in RunningJobs). */
  #starting = 0;
  /** Aborted to end a long poll early (the ephemeral runner's job was completed). */
  #wake = new AbortController();
  readonly #gone: RunnerGoneNotice;

  constructor(options: RunnerListenerOptions) {
    this.#options = options;
    const { settings } = options.configuration;
    this.#runner = { agentId: settings.agentId, name: settings.agentName, instance: options.instance };
    this.#ephemeral = settings.ephemeral;
    this.#log = options.logger.child({ runner: settings.agentName, agentId: settings.agentId });
    this.#gone = new RunnerGoneNotice(
      this.#log,
      options.tokens,
      options.removedRetryMs ?? 5 * 60_000,
      (ms, signal) => this.#sleep(ms, signal),
    );
    if (settings.serverUrlV2 === undefined || settings.serverUrlV2 === "") {
      // A legacy-flow runner (useV2Flow false) listens with LegacyRunnerListener instead.
      throw new RunnerSettingsError(".runner", "the runner has no broker URL", {
        field: "serverUrlV2",
        hint: "a runner of the legacy (GHES) flow listens through the legacy listener; register the runner again",
      });
    }
    this.#broker = this.#brokerAt(settings.serverUrlV2);
  }

  get runner(): JobRunner {
    return this.#runner;
  }

  #brokerAt(url: string): BrokerClient {
    return new BrokerClient({
      serverUrl: url,
      tokens: this.#options.tokens,
      ...(this.#options.fetch === undefined ? {} : { fetch: this.#options.fetch }),
    });
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return (this.#options.sleep ?? realSleep)(ms, signal);
  }

  #busy(): boolean {
    return this.#starting > 0 || this.#options.jobs.busy(this.#runner.agentId);
  }

  /** Listens until `signal` aborts, GitHub asks the runner to shut down, or an ephemeral runner's job is complete. */
  async run(signal: AbortSignal): Promise<ListenerEnd> {
    // A restarted ephemeral runner whose job the journal resumed takes no other.
    if (this.#ephemeral && this.#options.jobs.busy(this.#runner.agentId)) {
      this.#tookJob = true;
      void this.#options.jobs.whenIdle(this.#runner.agentId).then(() => this.#wake.abort());
    }
    await this.#deleteLeftSession();
    for (;;) {
      const session = await this.#createSession(signal);
      if (session === undefined) return "stopped";
      await this.#options.sessionMarker?.set(session.sessionId);
      this.#log.info({ sessionId: session.sessionId }, "listening for jobs");
      const end = await this.#poll(session, signal);
      if (end === "recreate") continue;
      await this.#deleteSession();
      return end;
    }
  }

  #createSession(signal: AbortSignal): Promise<BrokerSession | undefined> {
    const { settings } = this.#options.configuration;
    return createSessionWithRetry(
      () =>
        this.#broker.createSession(
          {
            agentId: settings.agentId,
            agentName: settings.agentName,
            version: RUNNER_PROTOCOL_VERSION,
            osDescription: `${osType()} ${osRelease()}`,
            ephemeral: settings.ephemeral,
          },
          signal,
        ),
      {
        signal,
        gone: this.#gone,
        sleep: (ms, s) => this.#sleep(ms, s),
        log: this.#log,
        failureMessage: "cannot create the broker session",
      },
    );
  }

  async #poll(session: BrokerSession, signal: AbortSignal): Promise<ListenerEnd | "recreate"> {
    const failures = new PollFailures();
    while (!signal.aborted) {
      if (this.#ephemeral && this.#tookJob && !this.#busy()) return "job-done";
      const identity: PollIdentity = {
        sessionId: session.sessionId,
        status: this.#busy() ? "Busy" : "Online",
        runnerVersion: RUNNER_PROTOCOL_VERSION,
        os: osLabel(),
        architecture: archLabel(),
      };
      let message: BrokerMessage | undefined;
      try {
        message = await this.#broker.getMessage(identity, true, AbortSignal.any([signal, this.#wake.signal]));
        failures.reset();
      } catch (error) {
        const next = await pollFailureOutcome(error, {
          signal,
          wake: this.#wake.signal,
          ephemeralTookJob: this.#ephemeral && this.#tookJob,
          whenIdle: () => this.#options.jobs.whenIdle(this.#runner.agentId),
          sessionExpired: (e) =>
            e instanceof ActionsServiceError && e.errorKind === BrokerErrorKinds.RunnerSessionInvalid,
          gone: this.#gone,
          failures,
          sleep: (ms, s) => this.#sleep(ms, s),
          log: this.#log,
          failureMessage: "cannot get a message from the broker",
        });
        if (next === "woken") this.#wake = new AbortController();
        if (next === "woken" || next === "retry") continue;
        return next;
      }
      if (message === undefined) continue;
      const end = await this.#handle(message, identity, signal);
      if (end !== undefined) return end;
    }
    return "stopped";
  }

  async #handle(
    message: BrokerMessage,
    identity: PollIdentity,
    signal: AbortSignal,
  ): Promise<ListenerEnd | undefined> {
    const decision = decideMessage(message, {
      acceptingJobs: !(this.#ephemeral && this.#tookJob) && !this.#busy(),
    });
    const log = this.#log.child({ messageId: message.messageId, messageType: message.messageType });
    switch (decision.action) {
      case "acquire-job": {
        if (decision.acknowledge) {
          await this.#broker
            .acknowledge(decision.runnerRequestId, { ...identity, status: "Busy" }, signal)
            .catch((error: unknown) => log.debug({ err: error }, "acknowledge failed (best effort)"));
        }
        if (decision.runServiceUrl === undefined) {
          log.warn(
            "a job request for the legacy run service; Solstice CI supports only the run service (skipped)",
          );
          return undefined;
        }
        this.#starting += 1;
        try {
          const job = await acquireJob({
            runServiceUrl: decision.runServiceUrl,
            runnerRequestId: decision.runnerRequestId,
            runnerOS: osLabel(),
            ...(decision.billingOwnerId === undefined ? {} : { billingOwnerId: decision.billingOwnerId }),
            tokens: this.#options.tokens,
            ...(this.#options.fetch === undefined ? {} : { fetch: this.#options.fetch }),
            signal,
          });
          if (this.#ephemeral) this.#tookJob = true;
          log.info({ jobId: job.jobId, job: job.jobDisplayName }, "job acquired");
          void this.#options.jobs
            .start(job, this.#runner)
            .then(async (started) => {
              this.#starting -= 1;
              await started?.finished;
              this.#wake.abort();
            })
            .catch((error: unknown) => {
              this.#starting -= 1;
              this.#wake.abort();
              log.error({ err: error, jobId: job.jobId }, "cannot start the job");
            });
        } catch (error) {
          this.#starting -= 1;
          if (acquireFailure(error) === "skip")
            log.info({ err: error }, "the job is not ours to run (skipped)");
          else log.warn({ err: error }, "cannot acquire the job; waiting for the next message");
        }
        return undefined;
      }
      case "cancel-job":
        if (!this.#options.jobs.cancel(decision.jobId))
          log.info({ jobId: decision.jobId }, "cancellation of a job not running here");
        return undefined;
      case "refresh-token":
        this.#options.tokens.invalidate();
        log.info("GitHub asked for a new access token");
        return undefined;
      case "shutdown":
        log.warn({ reason: decision.reason }, "GitHub asked the runner to shut down");
        return "shutdown";
      case "migrate-broker":
        log.info({ brokerUrl: decision.brokerUrl }, "moving to another broker");
        this.#broker = this.#brokerAt(decision.brokerUrl);
        return undefined;
      case "ignore":
        log[decision.level](decision.reason);
        return undefined;
    }
  }

  async #deleteSession(): Promise<void> {
    try {
      await this.#broker.deleteSession(AbortSignal.timeout(10_000));
      await this.#options.sessionMarker?.clear();
    } catch (error) {
      this.#log.debug({ err: error }, "cannot delete the broker session (it expires by itself)");
    }
  }

  /**
   * A session the last process of this runner left behind (it died without deleting it) would
   * make GitHub refuse a new one for minutes: delete it first. It is this runner's own.
   */
  async #deleteLeftSession(): Promise<void> {
    const marker = this.#options.sessionMarker;
    const left = await marker?.left();
    if (marker === undefined || left === undefined) return;
    this.#log.info({ sessionId: left }, "the last run did not end its broker session; ending it first");
    await this.#deleteSession();
  }
}
