import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { PingService, Result, RunnerService } from "@solstice/forgejo-protocol";
import { pushEvent } from "./context/push-event.ts";
import { createRuntimeToken } from "./context/runtime-token.ts";
import { runContext, taskContext } from "./context/task-context.ts";
import { TestServerClosedError, TestServerLookupError, TestWaitTimeoutError } from "./errors.ts";
import { handleGitRequest } from "./git/git-request-handler.ts";
import { newHexToken } from "./random-tokens.ts";
import { RepositoryRegistry } from "./repositories/repository-registry.ts";
import { CallLog, type CallRecord, type FaultableProcedure } from "./rpc/call-log.ts";
import { pingServiceImpl } from "./rpc/ping-service.ts";
import { runnerServiceImpl } from "./rpc/runner-service.ts";
import { type RunnerRecord, RunnerRegistry } from "./runners/runner-registry.ts";
import { describeTask, TaskEntry, type TaskNeedRecord, type TaskRecord } from "./tasks/task-record.ts";
import { stopTask } from "./tasks/task-state.ts";
import { TaskStore } from "./tasks/task-store.ts";
import { buildSingleJobPayload } from "./workflow/single-job-payload.ts";

/** Options of {@link ForgejoTestServer.start}. */
export interface ForgejoTestServerOptions {
  /** The address to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** The port; default 0 (any free port). */
  readonly port?: number;
  /**
   * The instance URL as runners and their jobs reach it (tasks' `server_url`, git clone URLs),
   * e.g. `http://10.0.2.2:PORT` for a QEMU guest; default {@link ForgejoTestServer.url}.
   * `{port}` in it is replaced by the port listened on.
   */
  readonly publicUrl?: string;
  /** How long FetchTask waits for a task before answering without one; default 0 (as Forgejo). */
  readonly fetchHoldMs?: number;
}

/** A job to queue, from a real workflow file. */
export interface AddTaskInput {
  /** The YAML text of the whole workflow. */
  readonly workflow: string;
  /** Which job; default the first. */
  readonly jobId?: string;
  /** Which matrix row (every key given must match); default the first in Forgejo's order. */
  readonly matrix?: Readonly<Record<string, unknown>>;
  /** `owner/name`; default `solstice/test`. */
  readonly repository?: string;
  /** The commit; default the commit `ref` names in the registered repository (else random). */
  readonly sha?: string;
  /** Default `refs/heads/main`. */
  readonly ref?: string;
  /** Default `push`. */
  readonly event?: string;
  /** The event's webhook payload; default a push payload for `ref` and `sha`. */
  readonly eventPayload?: JsonObject;
  /** Default `test-user`. */
  readonly actor?: string;
  readonly secrets?: Readonly<Record<string, string>>;
  readonly vars?: Readonly<Record<string, string>>;
  readonly needs?: Readonly<Record<string, TaskNeedRecord>>;
  /** The workflow's path in the repository; default `.forgejo/workflows/ci.yml`. */
  readonly workflowFile?: string;
}

const DEFAULT_REPOSITORY = "solstice/test";
const SERVER_VERSION = "11.0.0+solstice-test-server";
const DEFAULT_ACTIONS_URL = "https://data.forgejo.org";

/**
 * A Forgejo instance's Actions runner API (`/api/actions`, Connect) and git over HTTP, in
 * memory, for tests and benchmarks. Behaviour follows Forgejo's own server code; see
 * docs/forgejo-test-server.md for what it implements and what it does not.
 *
 * @example
 *   const server = await ForgejoTestServer.start();
 *   const token = server.createRegistrationToken();
 *   const task = server.addTask({ workflow: "on: push\njobs:\n  a:\n    runs-on: debian\n    steps:\n      - run: echo hi\n" });
 *   // ... run a runner against server.url ...
 *   await server.waitForTask(task.id, (t) => t.status === "done");
 *   await server.close();
 */
export class ForgejoTestServer {
  /** The instance URL, `http://127.0.0.1:PORT`; the API is under `${url}/api/actions`. */
  readonly url: string;
  /** The instance URL as tasks see it (`server_url` is this plus "/", as Forgejo's AppURL). */
  readonly publicUrl: string;
  readonly #server: Server;
  readonly #runners = new RunnerRegistry();
  readonly #tasks = new TaskStore();
  readonly #repositories = new RepositoryRegistry();
  readonly #calls = new CallLog();
  readonly #closing = new AbortController();
  readonly #runtimeSecret = randomBytes(32);
  readonly #runNumbers = new Map<string, bigint>();
  #nextRunId = 1n;
  #closed: Promise<void> | undefined;

  readonly #connect: ReturnType<typeof connectNodeAdapter>;

  private constructor(server: Server, url: string, publicUrl: string, fetchHoldMs: number) {
    this.#server = server;
    this.url = url;
    this.publicUrl = publicUrl;
    this.#connect = connectNodeAdapter({
      requestPathPrefix: "/api/actions",
      // As Forgejo's connect.WithCompressMinBytes(1024).
      compressMinBytes: 1024,
      routes: (router) => {
        router.service(PingService, pingServiceImpl(this.#calls));
        router.service(
          RunnerService,
          runnerServiceImpl({
            registry: this.#runners,
            tasks: this.#tasks,
            calls: this.#calls,
            fetchHoldMs,
            closing: this.#closing.signal,
          }),
        );
      },
    });
  }

  /** Starts a server listening on `host:port`. */
  static async start(options: ForgejoTestServerOptions = {}): Promise<ForgejoTestServer> {
    const host = options.host ?? "127.0.0.1";
    // The handler needs the instance, the instance needs the listening server: wire late.
    let instance: ForgejoTestServer | undefined;
    const server = createServer((req, res) => {
      if (instance === undefined) {
        res.writeHead(503).end();
        return;
      }
      instance.#handle(req, res);
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
    const publicUrl = (options.publicUrl ?? url).replace("{port}", String(port)).replace(/\/+$/, "");
    const started = new ForgejoTestServer(server, url, publicUrl, options.fetchHoldMs ?? 0);
    instance = started;
    return started;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path.startsWith("/api/actions/")) {
      this.#connect(req, res);
      return;
    }
    if (handleGitRequest(req, res, { repositories: this.#repositories, tasks: this.#tasks })) return;
    req.resume();
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("Not found\n");
  }

  /** A registration token, like Forgejo's; it invalidates the tokens created before it. */
  createRegistrationToken(): string {
    return this.#runners.createRegistrationToken();
  }

  /** Invalidates a registration token: Register with it is refused (InvalidArgument). */
  revokeRegistrationToken(token: string): void {
    this.#runners.revokeRegistrationToken(token);
  }

  /** The registered runners, oldest first. */
  runners(): readonly RunnerRecord[] {
    return this.#runners.list();
  }

  /** Deletes a runner: its calls are refused from then on (Unauthenticated, HTTP 401). */
  revokeRunner(uuid: string): void {
    this.#runners.revoke(uuid);
  }

  /**
   * Serves a git repository at `${url}/owner/name(.git)` for clones and fetches. A private one
   * needs the token of a task running for it as the HTTP Basic password.
   */
  addRepository(fullName: string, gitDir: string, options: { private?: boolean } = {}): void {
    this.#repositories.add(fullName, gitDir, options);
  }

  /** Queues a task built from a workflow (see {@link AddTaskInput}); runners can fetch it at once. */
  addTask(input: AddTaskInput): TaskRecord {
    this.#assertOpen("add a task");
    const repository = this.#repositories.getOrDescribe(input.repository ?? DEFAULT_REPOSITORY);
    const ref = input.ref ?? "refs/heads/main";
    const served = this.#repositories.served(repository.fullName);
    const sha =
      input.sha ?? (served === undefined ? newHexToken() : this.#repositories.resolveRef(served, ref));
    const eventName = input.event ?? "push";
    const actor = input.actor ?? "test-user";
    const workflowFile = input.workflowFile ?? ".forgejo/workflows/ci.yml";
    const vars = { ...(input.vars ?? {}) };
    const runId = this.#nextRunId++;
    const runNumber = (this.#runNumbers.get(repository.fullName) ?? 0n) + 1n;
    const run = runContext({
      publicUrl: this.publicUrl,
      repository,
      sha,
      ref,
      eventName,
      event:
        input.eventPayload ??
        pushEvent({
          publicUrl: this.publicUrl,
          owner: repository.owner,
          name: repository.name,
          repositoryId: repository.id,
          ownerId: repository.ownerId,
          private: repository.private,
          defaultBranch: repository.defaultBranch,
          ref,
          sha,
          actor,
        }),
      runId,
      runNumber,
      workflowFile,
      actor: { name: actor, id: 1n },
      serverVersion: SERVER_VERSION,
      defaultActionsUrl: DEFAULT_ACTIONS_URL,
    });
    const payload = buildSingleJobPayload({
      workflow: input.workflow,
      file: workflowFile,
      ...(input.jobId === undefined ? {} : { jobId: input.jobId }),
      ...(input.matrix === undefined ? {} : { matrix: input.matrix }),
      contexts: { vars, github: run },
    });
    this.#runNumbers.set(repository.fullName, runNumber);
    const id = this.#tasks.nextId();
    const token = newHexToken();
    const runtimeToken = createRuntimeToken(
      { taskId: id, runId, jobId: id },
      this.#runtimeSecret,
      new Date(),
    );
    const task = new TaskEntry({
      id,
      runId,
      repository: repository.fullName,
      jobId: payload.jobId,
      jobName: payload.jobName,
      runsOn: payload.runsOn,
      matrix: payload.matrix,
      payloadYaml: payload.yaml,
      context: taskContext(run, { jobId: payload.jobId, runId, attempt: 1, token, runtimeToken }),
      // Forgejo's getSecretsOfTask: the task token under its three names, over any secret so named.
      secrets: { ...(input.secrets ?? {}), GITHUB_TOKEN: token, GITEA_TOKEN: token, FORGEJO_TOKEN: token },
      vars,
      needs: { ...(input.needs ?? {}) },
      token,
      stepNames: payload.stepNames,
      createdAt: new Date(),
    });
    this.#tasks.add(task);
    return task;
  }

  /** The task, live (it changes as runners report). */
  task(id: bigint | number): TaskRecord {
    const task = this.#tasks.get(BigInt(id));
    if (task === undefined) throw new TestServerLookupError(`task ${id}`, "use the id addTask returned");
    return task;
  }

  /**
   * Resolves with the task once `predicate` holds (checked now and after every change); rejects
   * after `timeoutMs` (default 60 s) with a message describing the task's state.
   */
  waitForTask(
    id: bigint | number,
    predicate: (task: TaskRecord) => boolean,
    timeoutMs = 60_000,
  ): Promise<TaskRecord> {
    const task = this.task(id);
    if (predicate(task)) return Promise.resolve(task);
    return new Promise((resolve, reject) => {
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        unsubscribe();
        if (error === undefined) resolve(task);
        else reject(error);
      };
      const timer = setTimeout(
        () => finish(new TestWaitTimeoutError(task.id, timeoutMs, describeTask(task))),
        timeoutMs,
      );
      const unsubscribe = this.#tasks.onChange(() => {
        try {
          if (predicate(task)) finish();
        } catch (error) {
          finish(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
  }

  /**
   * Cancels the task as Forgejo's cancel button does: result CANCELLED and a stopped time (its
   * unfinished steps too); UpdateTask answers CANCELLED from then on. A waiting task is never
   * handed out. A finished task is left as it is.
   */
  cancelTask(id: bigint | number): void {
    const task = this.#tasks.get(BigInt(id));
    if (task === undefined) throw new TestServerLookupError(`task ${id}`, "use the id addTask returned");
    const runnerUuid = task.runnerUuid;
    if (!stopTask(task, Result.CANCELLED, new Date())) return;
    // Forgejo deletes an ephemeral runner once its task is stopped.
    const runner = runnerUuid === undefined ? undefined : this.#runners.get(runnerUuid);
    if (runner?.ephemeral === true) this.#runners.revoke(runner.uuid);
    this.#tasks.bumpVersion();
  }

  /** Makes the next `count` (default 1) calls of `procedure` fail with `code` (default Unavailable). */
  failNext(procedure: FaultableProcedure, count = 1, code: Code = Code.Unavailable): void {
    this.#calls.failNext(procedure, count, code);
  }

  /** Every RPC the server received, in order. */
  get calls(): readonly CallRecord[] {
    return this.#calls.calls;
  }

  /** Stops listening, ends held calls and open connections. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#closing.abort();
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
      // Held FetchTask calls answer on abort; give them a moment before cutting connections.
      setTimeout(() => this.#server.closeAllConnections(), 50).unref();
    });
    return this.#closed;
  }

  #assertOpen(operation: string): void {
    if (this.#closing.signal.aborted) throw new TestServerClosedError(operation);
  }
}
