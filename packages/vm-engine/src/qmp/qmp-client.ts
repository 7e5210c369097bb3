import { EventEmitter } from "node:events";
import { createConnection, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import {
  QmpClosedError,
  QmpCommandError,
  QmpConnectError,
  QmpProtocolError,
  QmpTimeoutError,
} from "../errors.ts";
import { type QmpEvent, type QmpGreeting, type QmpMessage, QmpParser } from "./qmp-parser.ts";

// A QMP client over a UNIX socket: greeting, `qmp_capabilities`, commands with ids matched to their
// answers, events dispatched to listeners and waiters. The byte-level parsing is in qmp-parser.ts.

/** Options of {@link QmpClient.connect}. */
export interface QmpConnectOptions {
  /**
   * Budget for the whole handshake: waiting for the socket to appear (QEMU creates it a moment
   * after spawning), connecting, the greeting and `qmp_capabilities`. Default 10 s.
   */
  readonly timeoutMs?: number;
}

/** Options of {@link QmpClient.execute}. */
export interface QmpExecuteOptions {
  /** Default 30 s. */
  readonly timeoutMs?: number;
}

/** The interesting part of `query-status`. */
export interface QmpStatus {
  /** `running`, `paused`, `prelaunch`, `shutdown`, `inmigrate`, ... */
  readonly status: string;
  readonly running: boolean;
}

/** The events a {@link QmpClient} emits. */
export interface QmpClientEvents {
  /** Every QMP event, as it arrives. */
  event: [QmpEvent];
  /** The connection closed (QEMU quit or died, or `close()` was called); `error` when it broke. */
  close: [Error | undefined];
}

interface PendingCommand {
  readonly command: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface EventWaiter {
  readonly name: string;
  readonly resolve: (event: QmpEvent) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
const CONNECT_RETRY_MS = 25;
/** How many recent events {@link QmpClient.recentEvents} keeps. */
const EVENT_HISTORY = 64;

const queryStatusSchema = z.object({ status: z.string(), running: z.boolean() }).loose();

/**
 * A connected QMP session.
 *
 * @example
 *   const qmp = await QmpClient.connect(join(vmDir, "qmp.sock"), { timeoutMs: 10_000 });
 *   const shutdown = qmp.waitForEvent("SHUTDOWN", 60_000); // register before triggering it
 *   await qmp.systemPowerdown();
 *   await shutdown;
 *   await qmp.close();
 */
export class QmpClient extends EventEmitter<QmpClientEvents> {
  readonly socketPath: string;
  readonly #socket: Socket;
  readonly #parser = new QmpParser();
  readonly #pending = new Map<number, PendingCommand>();
  readonly #waiters = new Set<EventWaiter>();
  readonly #recent: QmpEvent[] = [];
  #nextId = 1;
  #closed = false;
  #closeError: Error | undefined;
  #greeting: QmpGreeting | undefined;
  #onGreeting: ((greeting: QmpGreeting) => void) | undefined;
  readonly #closedPromise: Promise<void>;

  private constructor(socketPath: string, socket: Socket) {
    super();
    this.socketPath = socketPath;
    this.#socket = socket;
    this.#closedPromise = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", (error) => {
      this.#closeError ??= error;
    });
    socket.on("close", () => this.#onClose());
  }

  /**
   * Connect to QEMU's QMP socket, read the greeting and leave negotiation mode. Retries while the
   * socket does not exist yet or refuses, up to `timeoutMs`. Throws {@link QmpConnectError}.
   */
  static async connect(socketPath: string, options: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const socket = await connectWithRetry(socketPath, deadline, timeoutMs);
    const client = new QmpClient(socketPath, socket);
    try {
      await client.#awaitGreeting(Math.max(1, deadline - Date.now()));
      await client.execute("qmp_capabilities", undefined, { timeoutMs: Math.max(1, deadline - Date.now()) });
      return client;
    } catch (error) {
      client.#socket.destroy();
      const reason = error instanceof Error ? error.message : String(error);
      throw new QmpConnectError(socketPath, `handshake failed: ${reason}`, { cause: error });
    }
  }

  /** The greeting QEMU sent (its version and capabilities). */
  get greeting(): QmpGreeting {
    if (this.#greeting === undefined) throw new QmpProtocolError("no greeting received");
    return this.#greeting;
  }

  /** True once the connection is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The last events received (at most 64), oldest first. */
  get recentEvents(): readonly QmpEvent[] {
    return [...this.#recent];
  }

  /**
   * Run a QMP command and resolve with its `return` value. Rejects with {@link QmpCommandError}
   * (QEMU's error class and description), {@link QmpTimeoutError} or {@link QmpClosedError}.
   */
  execute<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    options: QmpExecuteOptions = {},
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new QmpClosedError(command, { cause: this.#closeError }));
    const id = this.#nextId++;
    const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new QmpTimeoutError(command, timeoutMs));
      }, timeoutMs);
      this.#pending.set(id, { command, resolve: resolve as (value: unknown) => void, reject, timer });
      const message =
        args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
      this.#socket.write(`${JSON.stringify(message)}\n`);
    });
  }

  /** `query-status`: the VM's run state. */
  async queryStatus(options: QmpExecuteOptions = {}): Promise<QmpStatus> {
    const value = await this.execute("query-status", undefined, options);
    const parsed = queryStatusSchema.safeParse(value);
    if (!parsed.success)
      throw new QmpProtocolError(`unexpected query-status answer: ${JSON.stringify(value)}`);
    return { status: parsed.data.status, running: parsed.data.running };
  }

  /** `system_powerdown`: ask the guest to shut down (ACPI power button). Returns when QEMU accepted it. */
  async systemPowerdown(options: QmpExecuteOptions = {}): Promise<void> {
    await this.execute("system_powerdown", undefined, options);
  }

  /**
   * `quit`: QEMU exits at once. Resolves when QEMU acknowledged it or when the connection closed
   * (QEMU may close before its answer arrives).
   */
  async quit(options: QmpExecuteOptions = {}): Promise<void> {
    try {
      await this.execute("quit", undefined, options);
    } catch (error) {
      if (!(error instanceof QmpClosedError)) throw error;
    }
  }

  /**
   * Resolve with the next event called `name`. Register the wait before the command that triggers
   * the event: an event that arrived earlier is not returned (see {@link recentEvents}).
   * Rejects with {@link QmpTimeoutError} or, when the connection closes first, {@link QmpClosedError}.
   */
  waitForEvent(name: string, timeoutMs: number): Promise<QmpEvent> {
    if (this.#closed) return Promise.reject(new QmpClosedError(`event:${name}`, { cause: this.#closeError }));
    return new Promise<QmpEvent>((resolve, reject) => {
      const waiter: EventWaiter = {
        name,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new QmpTimeoutError(`event:${name}`, timeoutMs));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Close the connection (QEMU keeps running); pending commands reject with {@link QmpClosedError}. */
  async close(): Promise<void> {
    if (!this.#closed) this.#socket.destroy();
    await this.#closedPromise;
  }

  /** Resolves when the connection has closed, for whatever reason. */
  whenClosed(): Promise<void> {
    return this.#closedPromise;
  }

  #awaitGreeting(timeoutMs: number): Promise<QmpGreeting> {
    if (this.#greeting !== undefined) return Promise.resolve(this.#greeting);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new QmpTimeoutError("greeting", timeoutMs)), timeoutMs);
      const onClose = (): void => {
        clearTimeout(timer);
        reject(new QmpClosedError("greeting", { cause: this.#closeError }));
      };
      this.once("close", onClose);
      this.#onGreeting = (greeting) => {
        clearTimeout(timer);
        this.off("close", onClose);
        resolve(greeting);
      };
    });
  }

  #onData(chunk: Buffer): void {
    let messages: QmpMessage[];
    try {
      messages = this.#parser.push(chunk);
    } catch (error) {
      this.#closeError ??= error instanceof Error ? error : new Error(String(error));
      this.#socket.destroy();
      return;
    }
    for (const message of messages) this.#dispatch(message);
  }

  #dispatch(message: QmpMessage): void {
    switch (message.type) {
      case "greeting":
        this.#greeting = message;
        this.#onGreeting?.(message);
        this.#onGreeting = undefined;
        return;
      case "return":
      case "error": {
        const pending = this.#takePending(message.id);
        if (pending === undefined) return; // answer to a command that already timed out
        clearTimeout(pending.timer);
        if (message.type === "return") pending.resolve(message.value);
        else pending.reject(new QmpCommandError(pending.command, message.errorClass, message.desc));
        return;
      }
      case "event": {
        const event: QmpEvent = { event: message.event, data: message.data, timestamp: message.timestamp };
        this.#recent.push(event);
        if (this.#recent.length > EVENT_HISTORY) this.#recent.shift();
        for (const waiter of [...this.#waiters]) {
          if (waiter.name !== event.event) continue;
          this.#waiters.delete(waiter);
          clearTimeout(waiter.timer);
          waiter.resolve(event);
        }
        this.emit("event", event);
        return;
      }
    }
  }

  #takePending(id: number | string | undefined): PendingCommand | undefined {
    // We always send numeric ids; an answer without one (QEMU's reply to a malformed request)
    // belongs to the oldest command, since QMP answers in order.
    const key = typeof id === "number" ? id : this.#pending.keys().next().value;
    if (key === undefined) return undefined;
    const pending = this.#pending.get(key);
    this.#pending.delete(key);
    return pending;
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new QmpClosedError(pending.command, { cause: this.#closeError }));
    }
    this.#pending.clear();
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new QmpClosedError(`event:${waiter.name}`, { cause: this.#closeError }));
    }
    this.#waiters.clear();
    this.emit("close", this.#closeError);
  }
}

/** Connect to a UNIX socket, retrying while it is absent or refuses, until the deadline. */
async function connectWithRetry(socketPath: string, deadline: number, timeoutMs: number): Promise<Socket> {
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await connectOnce(socketPath, Math.max(1, deadline - Date.now()));
    } catch (error) {
      lastError = error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ECONNREFUSED") {
        throw new QmpConnectError(socketPath, `cannot connect: ${(error as Error).message}`, {
          cause: error,
        });
      }
      await sleep(Math.min(CONNECT_RETRY_MS, Math.max(0, deadline - Date.now())));
    }
  }
  throw new QmpConnectError(socketPath, `not reachable within ${timeoutMs} ms`, { cause: lastError });
}

function connectOnce(socketPath: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path: socketPath });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`connect timed out after ${timeoutMs} ms`), { code: "ETIMEDOUT" }));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}
