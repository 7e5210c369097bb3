import { createPublicKey, type KeyObject, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { TokenIssuer } from "./auth/token-issuer.ts";
import { brokerRoutes } from "./broker/broker-routes.ts";
import { MessageQueue, type MessageRecord } from "./broker/message-queue.ts";
import { type SessionRecord, SessionRegistry } from "./broker/session-registry.ts";
import {
  TestConfigError,
  TestServerClosedError,
  TestServerLookupError,
  TestWaitTimeoutError,
} from "./errors.ts";
import { LiveFeed } from "./feed/live-feed.ts";
import { handleGitRequest, isGitRequest } from "./git/git-request-handler.ts";
import { CallLog, type CallRecord, type Fault } from "./http/call-log.ts";
import type { Endpoint } from "./http/endpoints.ts";
import { HttpError, sendHttpError, sendJson } from "./http/http-io.ts";
import { matchRoute, pathKnown, type Route } from "./http/router.ts";
import { cancelJob } from "./jobs/job-dispatch.ts";
import { describeJob, type JobEntry, type JobRecord, type TimelineRecordState } from "./jobs/job-record.ts";
import { JobStore } from "./jobs/job-store.ts";
import { legacyAgentRoutes } from "./legacy/agent-routes.ts";
import { JOB_COMPLETED_EVENT_PLAN_VERSION } from "./legacy/legacy-job-dispatch.ts";
import { legacyPlanRoutes } from "./legacy/plan-routes.ts";
import { legacySessionRoutes } from "./legacy/session-routes.ts";
import { type AccessTokenGrant, oauthRoutes } from "./oauth/oauth-endpoint.ts";
import { type RepositoryRecord, RepositoryRegistry } from "./repositories/repository-registry.ts";
import { appRoutes } from "./rest/app-routes.ts";
import { CredentialStore } from "./rest/credential-store.ts";
import { restRoutes } from "./rest/rest-routes.ts";
import { AppendBlobStore, type BlobRecord } from "./results/append-blob-store.ts";
import { blobRoutes } from "./results/blob-routes.ts";
import { resultsRoutes } from "./results/results-routes.ts";
import { runServiceRoutes } from "./run-service/run-service-routes.ts";
import { deleteRunner } from "./runners/runner-lifecycle.ts";
import { type RunnerRecord, RunnerRegistry } from "./runners/runner-registry.ts";
import type { ServerContext, ServerSettings, ServerUrls } from "./server-context.ts";
import { connectionDataRoutes } from "./tenant/connection-data-route.ts";
import { gitHubContext, pushEvent } from "./workflow/github-context.ts";
import { prepareJob } from "./workflow/job-message-builder.ts";
import { selectWorkflowJob } from "./workflow/workflow-job.ts";

/** Options of {@link GitHubTestServer.start}. */
export interface GitHubTestServerOptions {
  /** The address to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** The port; default 0 (any free port). */
  readonly port?: number;
  /**
   * The URL runners and jobs reach the server at (every URL handed out starts with it), e.g.
   * `http://10.0.2.2:{port}` for a QEMU guest; `{port}` is replaced. Default {@link GitHubTestServer.url}.
   */
  readonly publicUrl?: string;
  /**
   * The URL a job's steps reach the server at: the job's `github.server_url` and `api_url` and its
   * event payload, so a checkout in a QEMU guest fetches from `http://10.0.2.2:{port}` while the
   * runner on the host talks to {@link publicUrl}. `{port}` is replaced. Default: the public URL.
   */
  readonly guestUrl?: string;
  /** How long GET message holds a poll without a message; default 50 000 ms (tests: 1–2 s). */
  readonly messageHoldMs?: number;
  /** The status of an idle GET message (a 2xx without a body); default 202. */
  readonly idleMessageStatus?: 200 | 202 | 204;
  /** Lifetime of a runner's OAuth access token (`expires_in`); default 1 h. */
  readonly accessTokenLifetimeMs?: number;
  /** Lifetime of a job's access token; default 6 h. */
  readonly jobTokenLifetimeMs?: number;
  /** How long acquirejob and each renewjob lock a job; default 10 min, as GitHub. */
  readonly jobLockMs?: number;
  /** Lifetime of registration and remove tokens; default 1 h. */
  readonly runnerTokenLifetimeMs?: number;
  /** Lifetime of App installation tokens; default 1 h. */
  readonly installationTokenLifetimeMs?: number;
  /** Whether client assertions signed RS256 are accepted (PS256 always is); default true. */
  readonly acceptRs256?: boolean;
  /** `should_acknowledge` of RunnerJobRequest messages; default true. */
  readonly shouldAcknowledge?: boolean;
  /** Runners polling with an older `runnerVersion` get RunnerVersionTooOld; default none. */
  readonly minimumRunnerVersion?: string;
  /** A GitHub App whose JWTs the App endpoints accept: its id and public key (PEM or KeyObject). */
  readonly app?: { readonly appId: string | number; readonly publicKey: string | KeyObject };
  /**
   * False: a GHES that answers runner-registration with `use_v2_flow: false`, so runners register
   * through the legacy pools/agents resources and take jobs through encrypted sessions, job
   * requests and timelines (see docs/github-test-server.md). Default true.
   */
  readonly useV2Flow?: boolean;
  /** Legacy flow: the plan version of job messages (8 and later: JobCompleted event). Default 8. */
  readonly legacyPlanVersion?: number;
}

/** A job to queue, from a real workflow file. */
export interface AddJobInput {
  /** The YAML text of the whole workflow. */
  readonly workflowYaml: string;
  /** `owner/name`; default `solstice/test` (made up when not added). */
  readonly repository?: string;
  /** Which job; default the first. */
  readonly jobId?: string;
  /** Which matrix row (every key given must match); default the first. */
  readonly matrix?: Readonly<Record<string, unknown>>;
  /** The workflow's path in the repository; default `.github/workflows/ci.yml`. */
  readonly workflowFile?: string;
  /** Default: the commit `ref` names in the served repository, else random. */
  readonly sha?: string;
  /** Default `refs/heads/main`. */
  readonly ref?: string;
  /** Default `push`. */
  readonly event?: string;
  /** Default: a push payload for `ref` and `sha`. */
  readonly eventPayload?: Readonly<Record<string, unknown>>;
  /** Default `test-user`. */
  readonly actor?: string;
  readonly secrets?: Readonly<Record<string, string>>;
  readonly vars?: Readonly<Record<string, string>>;
  /** The `needs` context: `{job: {result, outputs}}`. */
  readonly needs?: Readonly<Record<string, unknown>>;
  readonly inputs?: Readonly<Record<string, unknown>>;
}

const DEFAULT_REPOSITORY = "solstice/test";

/**
 * GitHub's side of the self-hosted runner protocol, in memory, for tests and benchmarks: the
 * REST API for registration and JIT configs, OAuth, the broker, the run service, the results
 * service with its blob storage, the live feed, and git over HTTP. See docs/github-test-server.md.
 *
 * @example
 *   const server = await GitHubTestServer.start({ messageHoldMs: 1000 });
 *   server.addRepository("acme/widget");
 *   const pat = server.createPersonalAccessToken();
 *   // … configure a runner with --url server.gitHubUrl("acme/widget") and the PAT …
 *   const job = await server.addJob({ repository: "acme/widget", workflowYaml });
 *   await server.waitForJob(job.id, (j) => j.status === "completed");
 *   await server.close();
 */
export class GitHubTestServer {
  /** `http://127.0.0.1:PORT`, as the server listens. */
  readonly url: string;
  /** The URL handed out to runners (and the github.com-style API base). */
  readonly publicUrl: string;
  /** The URL in jobs' github context (see {@link GitHubTestServerOptions.guestUrl}). */
  readonly guestUrl: string;
  /** Every URL handed out. */
  readonly urls: ServerUrls;
  readonly #server: Server;
  readonly #context: ServerContext;
  readonly #routes: readonly Route[];
  readonly #feed: LiveFeed;
  readonly #grants: AccessTokenGrant[] = [];
  readonly #closing = new AbortController();
  readonly #sweeper: NodeJS.Timeout;
  #nextRunId = 1;
  #closed: Promise<void> | undefined;

  private constructor(
    server: Server,
    url: string,
    publicUrl: string,
    guestUrl: string,
    settings: ServerSettings,
  ) {
    this.#server = server;
    this.url = url;
    this.publicUrl = publicUrl;
    this.guestUrl = guestUrl;
    const feed = `${publicUrl.replace(/^http/, "ws")}/feed`;
    this.urls = {
      base: publicUrl,
      api: publicUrl,
      tenant: `${publicUrl}/pipelines/`,
      oauth: `${publicUrl}/oauth2/token`,
      broker: `${publicUrl}/broker/`,
      runService: `${publicUrl}/run/`,
      results: `${publicUrl}/results/`,
      blobs: `${publicUrl}/blobs`,
      feed,
    };
    const calls = new CallLog();
    this.#context = {
      urls: this.urls,
      settings,
      repositories: new RepositoryRegistry(),
      credentials: new CredentialStore(),
      runners: new RunnerRegistry(),
      sessions: new SessionRegistry(),
      messages: new MessageQueue(),
      jobs: new JobStore(),
      tokens: new TokenIssuer(randomBytes(32), publicUrl),
      blobs: new AppendBlobStore(this.urls.blobs),
      calls,
      closing: this.#closing.signal,
    };
    this.#routes = [
      ...restRoutes(this.#context),
      ...appRoutes(this.#context),
      ...oauthRoutes(this.#context, this.#grants),
      ...connectionDataRoutes(this.#context),
      ...brokerRoutes(this.#context),
      ...runServiceRoutes(this.#context),
      ...resultsRoutes(this.#context),
      ...blobRoutes(this.#context),
      ...legacyAgentRoutes(this.#context),
      ...legacySessionRoutes(this.#context),
      ...legacyPlanRoutes(this.#context),
    ];
    this.#feed = new LiveFeed(this.#context);
    // A running job whose lock ran out is abandoned, as GitHub fails a job whose runner vanished.
    this.#sweeper = setInterval(() => this.#context.jobs.expireLocks(Date.now()), 100);
    this.#sweeper.unref();
  }

  /** Starts a server. */
  static async start(options: GitHubTestServerOptions = {}): Promise<GitHubTestServer> {
    const host = options.host ?? "127.0.0.1";
    const settings: ServerSettings = {
      messageHoldMs: options.messageHoldMs ?? 50_000,
      idleMessageStatus: options.idleMessageStatus ?? 202,
      accessTokenLifetimeMs: options.accessTokenLifetimeMs ?? 60 * 60 * 1000,
      jobTokenLifetimeMs: options.jobTokenLifetimeMs ?? 6 * 60 * 60 * 1000,
      jobLockMs: options.jobLockMs ?? 10 * 60 * 1000,
      runnerTokenLifetimeMs: options.runnerTokenLifetimeMs ?? 60 * 60 * 1000,
      installationTokenLifetimeMs: options.installationTokenLifetimeMs ?? 60 * 60 * 1000,
      acceptRs256: options.acceptRs256 ?? true,
      shouldAcknowledge: options.shouldAcknowledge ?? true,
      minimumRunnerVersion: options.minimumRunnerVersion,
      app: options.app === undefined ? undefined : appSettings(options.app),
      useV2Flow: options.useV2Flow ?? true,
      legacyPlanVersion: options.legacyPlanVersion ?? JOB_COMPLETED_EVENT_PLAN_VERSION,
    };
    // The handler needs the instance, the instance needs the listening server: wire late.
    let instance: GitHubTestServer | undefined;
    const server = createServer((req, res) => {
      if (instance === undefined) res.writeHead(503).end();
      else void instance.#handle(req, res);
    });
    server.on("upgrade", (req, socket, head) => {
      if (instance === undefined || !instance.#feed.handleUpgrade(req, socket, head)) socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
    const withPort = (given: string) => given.replace("{port}", String(port)).replace(/\/+$/, "");
    const publicUrl = withPort(options.publicUrl ?? url);
    const guestUrl = withPort(options.guestUrl ?? publicUrl);
    instance = new GitHubTestServer(server, url, publicUrl, guestUrl, settings);
    return instance;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    const match = matchRoute(this.#routes, method, url.pathname);
    if (match === undefined) {
      if (isGitRequest(req)) {
        const done = this.#context.calls.start("git", method, url.pathname);
        res.once("close", () => done(res.writableFinished ? res.statusCode : 0, false));
        handleGitRequest(req, res, this.#context);
        return;
      }
      const done = this.#context.calls.start("unknown", method, url.pathname);
      req.resume();
      const status = pathKnown(this.#routes, url.pathname) ? 405 : 404;
      sendJson(res, status, { message: status === 404 ? "Not Found" : "Method Not Allowed" });
      done(status, false);
      return;
    }
    const { route, params } = match;
    const done = this.#context.calls.start(route.endpoint, method, url.pathname);
    let injected = false;
    res.once("close", () => done(res.writableFinished ? res.statusCode : 0, injected));
    const fault = this.#context.calls.takeFault(route.endpoint);
    if (fault !== undefined) {
      injected = true;
      if (fault.kind === "drop") {
        req.socket.destroy();
        return;
      }
      if (fault.kind === "fail") {
        req.resume();
        sendHttpError(res, new HttpError(fault.status, fault.body));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, fault.ms));
    }
    try {
      await route.handler({ req, res, url, params });
    } catch (error) {
      if (!res.headersSent) {
        req.resume();
        if (error instanceof HttpError) sendHttpError(res, error);
        else
          sendJson(res, 500, {
            message: `internal error: ${error instanceof Error ? error.message : String(error)}`,
          });
      } else {
        res.destroy();
      }
    }
  }

  /** The GitHub URL of a repository (`owner/name`) or organisation: a runner's `--url`. */
  gitHubUrl(entity: string): string {
    return `${this.publicUrl}/${entity}`;
  }

  /**
   * Registers a repository (and so its owner, as an organisation). With `gitDir` it is served
   * over HTTP at `${url}/owner/name(.git)`; a private one only to a token that can read it.
   */
  addRepository(fullName: string, options: { gitDir?: string; private?: boolean } = {}): RepositoryRecord {
    this.#assertOpen("add a repository");
    return this.#context.repositories.add(fullName, options);
  }

  /** A personal access token (`ghp_…`) with admin rights on every repository and organisation. */
  createPersonalAccessToken(login = "test-user"): string {
    return this.#context.credentials.createPersonalAccessToken(login);
  }

  /** A registration token for `owner/name` or an organisation, as the REST API would give. */
  createRegistrationToken(entity: string): string {
    return this.#context.credentials.createRunnerToken(
      "registration",
      this.#scope(entity),
      this.#context.settings.runnerTokenLifetimeMs,
    ).token;
  }

  /** A remove token for `owner/name` or an organisation. */
  createRemoveToken(entity: string): string {
    return this.#context.credentials.createRunnerToken(
      "remove",
      this.#scope(entity),
      this.#context.settings.runnerTokenLifetimeMs,
    ).token;
  }

  /** Installs the App on an account (the owner of repositories); returns the installation id. */
  installApp(account: string): number {
    if (this.#context.settings.app === undefined) {
      throw new TestConfigError(
        "no App is configured",
        "start the server with the `app` option (id and public key)",
      );
    }
    return this.#context.credentials.install(account).id;
  }

  /** Queues a job built from a workflow; a runner whose labels cover its `runs-on` gets it. */
  async addJob(input: AddJobInput): Promise<JobRecord> {
    this.#assertOpen("add a job");
    const repositories = this.#context.repositories;
    const repository =
      repositories.get(input.repository ?? DEFAULT_REPOSITORY) ??
      repositories.add(input.repository ?? DEFAULT_REPOSITORY);
    const ref = input.ref ?? "refs/heads/main";
    const sha =
      input.sha ??
      (repository.gitDir === undefined
        ? randomBytes(20).toString("hex")
        : repositories.resolveRef(repository, ref));
    const actor = input.actor ?? "test-user";
    const workflowFile = input.workflowFile ?? ".github/workflows/ci.yml";
    const vars = { ...(input.vars ?? {}) };
    const runId = this.#nextRunId++;
    const event =
      input.eventPayload ??
      pushEvent({
        serverUrl: this.guestUrl,
        apiUrl: this.guestUrl,
        repository,
        ref,
        sha,
        actor,
        actorId: 1,
      });
    const githubBase = {
      serverUrl: this.guestUrl,
      apiUrl: this.guestUrl,
      repository,
      sha,
      ref,
      eventName: input.event ?? "push",
      event,
      runId,
      runNumber: runId,
      runAttempt: 1,
      workflowFile,
      actor,
      actorId: 1,
    };
    const selection = await selectWorkflowJob({
      yaml: input.workflowYaml,
      file: workflowFile,
      jobId: input.jobId,
      matrix: input.matrix,
      contexts: {
        github: gitHubContext({ ...githubBase, workflowName: workflowFile, jobKey: input.jobId ?? "" }),
        vars,
        inputs: input.inputs ?? {},
        needs: input.needs ?? {},
      },
    });
    const prepared = prepareJob({
      selection,
      workflowFile,
      github: gitHubContext({
        ...githubBase,
        workflowName: selection.workflowName,
        jobKey: selection.jobKey,
      }),
      vars,
      secrets: input.secrets ?? {},
      needs: input.needs ?? {},
      inputs: input.inputs ?? {},
      billingOwnerId: String(repository.ownerId),
    });
    const job: JobEntry = {
      id: prepared.jobId,
      planId: prepared.planId,
      runnerRequestId: prepared.runnerRequestId,
      repository: repository.fullName,
      workflowFile,
      jobKey: selection.jobKey,
      displayName: selection.displayName,
      matrix: selection.matrix,
      runsOn: selection.runsOn,
      status: "queued",
      result: undefined,
      runnerId: undefined,
      createdAt: new Date(),
      assignedAt: undefined,
      acquiredAt: undefined,
      acquireCount: 0,
      lockedUntil: undefined,
      renewals: [],
      cancelRequestedAt: undefined,
      completedAt: undefined,
      completion: undefined,
      completeCount: 0,
      token: undefined,
      message: undefined,
      steps: [],
      changeOrders: [],
      feed: [],
      feedRejected: [],
      stepLogMetadata: new Map(),
      jobLogMetadata: undefined,
      legacyRequestId: undefined,
      timeline: new Map(),
      timelineUpdates: [],
      logs: new Map(),
      attachments: new Map(),
      planEvents: [],
      requestFinish: undefined,
      prepared,
    };
    this.#context.jobs.add(job);
    this.#context.messages.wakeAll();
    return job;
  }

  /** The job, live (it changes as the runner calls). */
  job(id: string): JobRecord {
    return this.#job(id);
  }

  /** Every job, oldest first. */
  jobs(): readonly JobRecord[] {
    return this.#context.jobs.list();
  }

  /** The message steps' ids of a job (its step external ids), in order. */
  stepIds(jobId: string): string[] {
    return this.#job(jobId).prepared.steps.map((s) => s.id);
  }

  /**
   * Resolves with the job once `predicate` holds (checked now and after every change); rejects
   * after `timeoutMs` (default 60 s) with the job's state.
   */
  waitForJob(id: string, predicate: (job: JobRecord) => boolean, timeoutMs = 60_000): Promise<JobRecord> {
    const job = this.#job(id);
    if (predicate(job)) return Promise.resolve(job);
    return new Promise((resolve, reject) => {
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        unsubscribe();
        if (error === undefined) resolve(job);
        else reject(error);
      };
      const timer = setTimeout(
        () => finish(new TestWaitTimeoutError(job.id, timeoutMs, describeJob(job))),
        timeoutMs,
      );
      const unsubscribe = this.#context.jobs.onChange(() => {
        try {
          if (predicate(job)) finish();
        } catch (error) {
          finish(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
  }

  /**
   * Cancels a job: a queued one is never handed out; the runner holding one gets a
   * JobCancellation message, and its result is `canceled` whatever it then reports.
   */
  cancelJob(id: string): void {
    cancelJob(this.#context, this.#job(id));
  }

  /** Sends any broker message (ForceTokenRefresh, RunnerRefresh…) to a runner. */
  pushMessage(
    runnerId: number,
    messageType: string,
    body: string | Readonly<Record<string, unknown>> = "",
  ): MessageRecord {
    this.#assertOpen("push a message");
    if (this.#context.runners.get(runnerId) === undefined)
      throw new TestServerLookupError(`runner ${runnerId}`, "use an id from runners()");
    return this.#context.messages.push(
      runnerId,
      messageType,
      typeof body === "string" ? body : JSON.stringify(body),
    );
  }

  /** Every runner, deleted ones too (with `deletedAt`), oldest first. */
  runners(): readonly RunnerRecord[] {
    return this.#context.runners.list();
  }

  /** Deletes a runner as the settings page does: its token exchange then fails with invalid_client. */
  deleteRunner(id: number): void {
    if (!deleteRunner(this.#context, id))
      throw new TestServerLookupError(`runner ${id}`, "use an id from runners()");
  }

  /** Every broker session, deleted ones too. */
  sessions(): readonly SessionRecord[] {
    return this.#context.sessions.list();
  }

  /** Every broker message, with delivery and acknowledgement times. */
  messages(): readonly MessageRecord[] {
    return this.#context.messages.list();
  }

  /** Every OAuth access token handed out (runner, algorithm of the assertion, times). */
  get accessTokenGrants(): readonly AccessTokenGrant[] {
    return this.#grants;
  }

  /** A step's uploaded log (the results blob), as text; `undefined` when none was written. */
  stepLog(jobId: string, stepId: string): string | undefined {
    return this.#context.blobs.text(this.#job(jobId).id, "step-log", stepId);
  }

  /** The job's uploaded log, as text; `undefined` when none was written. */
  jobLog(jobId: string): string | undefined {
    return this.#context.blobs.text(this.#job(jobId).id, "job-log");
  }

  /** A step's uploaded summary (markdown); `undefined` when none. */
  stepSummary(jobId: string, stepId: string): string | undefined {
    return this.#context.blobs.text(this.#job(jobId).id, "step-summary", stepId);
  }

  /** Legacy flow: a step's summary, attached to its timeline record; `undefined` when none. */
  legacyStepSummary(jobId: string, stepId: string): string | undefined {
    const job = this.#job(jobId);
    const id = stepId.toLowerCase();
    return job.attachments.get(`${id}/Checks.Step.Summary/${id}`)?.content;
  }

  /** Legacy flow: a job's timeline records (its own record, then its steps), by `order` within each. */
  timelineRecords(jobId: string): readonly TimelineRecordState[] {
    return [...this.#job(jobId).timeline.values()];
  }

  /** Legacy flow: the log a timeline record points at, as text; `undefined` when none. */
  recordLog(jobId: string, recordId: string): string | undefined {
    const job = this.#job(jobId);
    const logId = job.timeline.get(recordId.toLowerCase())?.logId;
    return logId === undefined ? undefined : job.logs.get(logId)?.content;
  }

  /** Every blob of a job, with its chunks and whether it is sealed. */
  blobs(jobId: string): readonly BlobRecord[] {
    return this.#context.blobs.ofJob(this.#job(jobId).id);
  }

  /** Makes the next `count` calls of `endpoint` fail with `status` and `body` (JSON unless a string). */
  failNext(endpoint: Endpoint, options: { count?: number; status?: number; body?: unknown } = {}): void {
    const body = options.body ?? { message: "injected failure (failNext)" };
    this.#context.calls.inject(
      endpoint,
      { kind: "fail", status: options.status ?? 500, body },
      options.count ?? 1,
    );
  }

  /**
   * Calls `observer` with each call the moment it arrives, before any fault or handler (a test
   * can look at the runner's state, or kill it, exactly then). Returns the function that stops it.
   */
  onCall(observer: (call: CallRecord) => void): () => void {
    return this.#context.calls.observe(observer);
  }

  /** Makes the next `count` calls of `endpoint` wait `ms` before being handled. */
  delayNext(endpoint: Endpoint, ms: number, count = 1): void {
    this.#context.calls.inject(endpoint, { kind: "delay", ms }, count);
  }

  /** Makes the next `count` calls of `endpoint` lose their connection without an answer. */
  dropNext(endpoint: Endpoint, count = 1): void {
    this.#context.calls.inject(endpoint, { kind: "drop" }, count);
  }

  /**
   * Takes `endpoints` down for `ms` milliseconds, as an outage of that GitHub service: every call
   * meanwhile is answered `status` (default 503) or, with `drop`, loses its connection.
   */
  outage(
    endpoints: readonly Endpoint[],
    ms: number,
    options: { status?: number; drop?: boolean } = {},
  ): void {
    const fault: Fault =
      options.drop === true
        ? { kind: "drop" }
        : { kind: "fail", status: options.status ?? 503, body: { message: "injected outage" } };
    for (const endpoint of endpoints) this.#context.calls.outage(endpoint, fault, ms);
  }

  /** Every HTTP call the server received, in order. */
  get calls(): readonly CallRecord[] {
    return this.#context.calls.calls;
  }

  /** Stops listening; ends held polls, feed sockets and open connections. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#closing.abort();
      clearInterval(this.#sweeper);
      this.#feed.close();
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
      // Held polls answer on abort; give them a moment before cutting connections.
      setTimeout(() => this.#server.closeAllConnections(), 50).unref();
    });
    return this.#closed;
  }

  #job(id: string): JobEntry {
    const job = this.#context.jobs.get(id);
    if (job === undefined) throw new TestServerLookupError(`job ${id}`, "use the id addJob returned");
    return job;
  }

  #scope(entity: string): string {
    return entity.includes("/") ? `repos/${entity}` : `orgs/${entity}`;
  }

  #assertOpen(operation: string): void {
    if (this.#closing.signal.aborted) throw new TestServerClosedError(operation);
  }
}

function appSettings(app: NonNullable<GitHubTestServerOptions["app"]>): ServerSettings["app"] {
  try {
    const publicKey = typeof app.publicKey === "string" ? createPublicKey(app.publicKey) : app.publicKey;
    return { appId: String(app.appId), publicKey };
  } catch (error) {
    throw new TestConfigError(
      `the App's public key cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      "give the App's public key as PEM (or a KeyObject)",
    );
  }
}
