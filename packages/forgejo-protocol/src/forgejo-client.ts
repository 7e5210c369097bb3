import { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport } from "@connectrpc/connect-node";
import { toForgejoError } from "./errors.ts";
import { PingService } from "./gen/ping/v1/services_pb.ts";
import {
  type LogRow,
  type Runner,
  type Task,
  type TaskState,
  TaskStateSchema,
  type UpdateTaskResponse,
} from "./gen/runner/v1/messages_pb.ts";
import { RunnerService } from "./gen/runner/v1/services_pb.ts";
import { actionsApiBaseUrl } from "./instance-url.ts";

// Forgejo's runner API over Connect (binary protobuf, gzip, HTTP/1.1 keep-alive), as the
// reference runner calls it: every call but Register and Ping carries the runner's uuid and
// token headers. Errors come out as ForgejoRpcError (procedure + Connect code); deciding to
// retry is the caller's business.

/** The header carrying the runner's uuid. */
export const RUNNER_UUID_HEADER = "x-runner-uuid";
/** The header carrying the runner's token. */
export const RUNNER_TOKEN_HEADER = "x-runner-token";

/** A registered runner's credentials. */
export interface RunnerCredentials {
  readonly uuid: string;
  readonly token: string;
}

/** Options of {@link ForgejoClient}. */
export interface ForgejoClientOptions {
  /** The instance URL, e.g. `https://codeberg.org`. */
  readonly instance: string;
  /** Absent only to Ping and Register. */
  readonly credentials?: RunnerCredentials;
  /** Per call, as the reference runner's 60 s. */
  readonly timeoutMs?: number;
  /** Sent as `user-agent`. */
  readonly userAgent?: string;
  /**
   * Told of every RPC once it returned or failed (metrics): the method (`FetchTask`), its
   * seconds, and on failure the RPC code in snake case (`unavailable`, `unauthenticated`).
   */
  readonly onCall?:
    | ((call: { call: string; seconds: number; error?: string | undefined }) => void)
    | undefined;
}

/** What Register sends. */
export interface RegisterInput {
  readonly name: string;
  readonly token: string;
  readonly version: string;
  /** Label names (without `:scheme`). */
  readonly labels: readonly string[];
  readonly ephemeral?: boolean;
}

/** What UpdateLog sends. */
export interface UpdateLogInput {
  readonly taskId: bigint;
  /** The row offset of `rows[0]`: the last index the server acknowledged. */
  readonly index: bigint;
  readonly rows: readonly LogRow[];
  readonly noMore: boolean;
}

/**
 * A client of one Forgejo instance's runner API.
 *
 * @example
 *   const client = new ForgejoClient({ instance: state.address, credentials: state });
 *   const { task, tasksVersion } = await client.fetchTask(lastVersion);
 */
export class ForgejoClient {
  readonly #ping: Client<typeof PingService>;
  readonly #runner: Client<typeof RunnerService>;
  readonly #agent: Agent;

  constructor(options: ForgejoClientOptions) {
    const baseUrl = actionsApiBaseUrl(options.instance);
    const headers: Interceptor = (next) => async (request) => {
      if (options.credentials !== undefined) {
        request.header.set(RUNNER_UUID_HEADER, options.credentials.uuid);
        request.header.set(RUNNER_TOKEN_HEADER, options.credentials.token);
      }
      if (options.userAgent !== undefined) request.header.set("user-agent", options.userAgent);
      return next(request);
    };
    const observe: Interceptor = (next) => async (request) => {
      const onCall = options.onCall;
      if (onCall === undefined) return next(request);
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      try {
        const response = await next(request);
        onCall({ call: request.method.name, seconds: seconds() });
        return response;
      } catch (error) {
        onCall({ call: request.method.name, seconds: seconds(), error: rpcCodeName(error) });
        throw error;
      }
    };
    this.#agent = baseUrl.startsWith("https:")
      ? new HttpsAgent({ keepAlive: true, maxSockets: 16 })
      : new Agent({ keepAlive: true, maxSockets: 16 });
    const transport = createConnectTransport({
      baseUrl,
      httpVersion: "1.1",
      useBinaryFormat: true,
      interceptors: [observe, headers],
      sendCompression: compressionGzip,
      acceptCompression: [compressionGzip],
      compressMinBytes: 1024,
      defaultTimeoutMs: options.timeoutMs ?? 60_000,
      nodeOptions: { agent: this.#agent },
    });
    this.#ping = createClient(PingService, transport);
    this.#runner = createClient(RunnerService, transport);
  }

  /** Ping: the server echoes `data` (with a greeting). */
  async ping(data: string, signal?: AbortSignal): Promise<string> {
    try {
      return (await this.#ping.ping({ data }, { signal })).data;
    } catch (error) {
      throw toForgejoError("Ping", error);
    }
  }

  /** Registers a runner with a registration token; the answer holds its uuid and token. */
  async register(input: RegisterInput, signal?: AbortSignal): Promise<Runner> {
    try {
      const response = await this.#runner.register(
        {
          name: input.name,
          token: input.token,
          version: input.version,
          labels: [...input.labels],
          ephemeral: input.ephemeral ?? false,
        },
        { signal },
      );
      if (response.runner === undefined) throw new ConnectError("no runner in the answer", Code.Internal);
      return response.runner;
    } catch (error) {
      throw toForgejoError("Register", error);
    }
  }

  /** Declares version and labels; `undefined` from a server too old to know Declare. */
  async declare(
    version: string,
    labels: readonly string[],
    signal?: AbortSignal,
  ): Promise<Runner | undefined> {
    try {
      return (await this.#runner.declare({ version, labels: [...labels] }, { signal })).runner;
    } catch (error) {
      if (ConnectError.from(error).code === Code.Unimplemented) return undefined;
      throw toForgejoError("Declare", error);
    }
  }

  /** Asks for a task; `tasksVersion` is the last version seen (0 forces a look). */
  async fetchTask(
    tasksVersion: bigint,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<{ task: Task | undefined; tasksVersion: bigint }> {
    try {
      const response = await this.#runner.fetchTask(
        { tasksVersion },
        {
          signal: options.signal,
          ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        },
      );
      return { task: response.task, tasksVersion: response.tasksVersion };
    } catch (error) {
      throw toForgejoError("FetchTask", error);
    }
  }

  /** Reports a task's state (and outputs not yet acknowledged). */
  async updateTask(
    state: TaskState | MessageInitShape<typeof TaskStateSchema>,
    outputs: Readonly<Record<string, string>> = {},
    signal?: AbortSignal,
  ): Promise<UpdateTaskResponse> {
    try {
      return await this.#runner.updateTask(
        { state: create(TaskStateSchema, state), outputs: { ...outputs } },
        { signal },
      );
    } catch (error) {
      throw toForgejoError("UpdateTask", error);
    }
  }

  /** Sends log rows; answers the server's acknowledged row count. */
  async updateLog(input: UpdateLogInput, signal?: AbortSignal): Promise<bigint> {
    try {
      const response = await this.#runner.updateLog(
        { taskId: input.taskId, index: input.index, rows: [...input.rows], noMore: input.noMore },
        { signal },
      );
      return response.ackIndex;
    } catch (error) {
      throw toForgejoError("UpdateLog", error);
    }
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agent.destroy();
  }
}

/** `Code.DeadlineExceeded` → `deadline_exceeded`, as the Connect protocol spells codes. */
function rpcCodeName(error: unknown): string {
  const name = Code[ConnectError.from(error).code] ?? "unknown";
  return name.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`));
}
