import { setTimeout as sleep } from "node:timers/promises";
import { SshReconnectError } from "../errors.ts";
import type { ExecOptions, ExecResult, GuestShell, RunResult } from "./guest-shell.ts";

// A guest shell that outlives its connection: when the SSH connection drops (a flaky guest
// network stack, an sshd restart, a host hiccup), `reconnect` makes a new one and every later
// command runs on it. Steps survive because they run under a supervisor in the guest, detached
// from the session (see ./step-script.ts); the step runner resumes their output by offset.
// Bounded: each drop gets `timeoutMs` to reconnect (the connector retries with backoff), and a
// job gets at most `maxReconnects` reconnections, so a connection that keeps dropping ends the
// job with a clear error instead of looping.

/** Connects anew (e.g. `hypervisor.connectGuest(vm, …)`), within `timeoutMs`, retrying inside. */
export type GuestConnector = (options: { timeoutMs: number }) => Promise<GuestShell>;

/** Bounds of {@link ReconnectingGuestShell}. */
export interface ReconnectPolicy {
  /** Budget to re-establish one dropped connection. Default 60 s. */
  readonly timeoutMs?: number;
  /** Reconnections allowed over the shell's life. Default 20. */
  readonly maxReconnects?: number;
  /** Pause before the first attempt, so a restarting sshd is not hit at once. Default 250 ms. */
  readonly firstDelayMs?: number;
}

/** A guest shell whose connection can be dropped on purpose (the engine's test hook). */
export interface DroppableShell {
  /** Kill the connection from the host side, as a network failure would. */
  dropConnection(): void;
}

function isDroppable(shell: GuestShell): shell is GuestShell & DroppableShell {
  return typeof (shell as Partial<DroppableShell>).dropConnection === "function";
}

/**
 * @example
 *   const first = await hv.connectGuest(vm, { timeoutMs: 300_000 });
 *   const shell = new ReconnectingGuestShell(first, ({ timeoutMs }) => hv.connectGuest(vm, { timeoutMs }));
 *   // ... the connection drops during a step:
 *   await shell.reconnect(); // a new connection, or SshReconnectError
 */
export class ReconnectingGuestShell implements GuestShell, DroppableShell {
  readonly #connect: GuestConnector;
  readonly #timeoutMs: number;
  readonly #maxReconnects: number;
  readonly #firstDelayMs: number;
  #current: GuestShell;
  #reconnecting: Promise<void> | undefined;
  #reconnects = 0;
  #closing = false;

  constructor(first: GuestShell, connect: GuestConnector, policy: ReconnectPolicy = {}) {
    this.#current = first;
    this.#connect = connect;
    this.#timeoutMs = policy.timeoutMs ?? 60_000;
    this.#maxReconnects = policy.maxReconnects ?? 20;
    this.#firstDelayMs = policy.firstDelayMs ?? 250;
  }

  /** How many times the connection was re-established. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** Closed by {@link close}, or dropped and not (yet) re-established. */
  get closed(): boolean {
    return this.#closing || this.#current.closed;
  }

  /** Runs on the current connection; one that dropped is re-established first. */
  async exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    return (await this.#live()).exec(command, options);
  }

  async run(
    command: string,
    options?: { stdin?: string | Uint8Array; signal?: AbortSignal },
  ): Promise<RunResult> {
    return (await this.#live()).run(command, options);
  }

  async upload(path: string, content: string | Uint8Array, mode: number): Promise<void> {
    return (await this.#live()).upload(path, content, mode);
  }

  /**
   * Re-establish a dropped connection (a no-op while it is up). Concurrent callers share one
   * attempt. Rejects with {@link SshReconnectError} when the budget runs out, too many
   * reconnections happened already, or the shell was closed.
   */
  reconnect(): Promise<void> {
    if (this.#closing) return Promise.reject(new SshReconnectError("the shell was closed", this.#fields()));
    if (!this.#current.closed) return Promise.resolve();
    this.#reconnecting ??= this.#reconnectOnce().finally(() => {
      this.#reconnecting = undefined;
    });
    return this.#reconnecting;
  }

  /** Test hook: kill the current connection from the host side (no-op for a shell that cannot). */
  dropConnection(): void {
    if (isDroppable(this.#current)) this.#current.dropConnection();
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#reconnecting?.catch(() => undefined);
    await this.#current.close();
  }

  async #live(): Promise<GuestShell> {
    if (!this.#closing && this.#current.closed) await this.reconnect();
    return this.#current;
  }

  async #reconnectOnce(): Promise<void> {
    if (this.#reconnects >= this.#maxReconnects) {
      throw new SshReconnectError(
        `it dropped ${this.#reconnects + 1} times, more than the ${this.#maxReconnects} reconnections a job may make`,
        this.#fields(),
      );
    }
    const started = Date.now();
    await sleep(this.#firstDelayMs);
    let next: GuestShell;
    try {
      next = await this.#connect({ timeoutMs: Math.max(this.#timeoutMs - (Date.now() - started), 1000) });
    } catch (error) {
      throw new SshReconnectError(
        `no new connection within ${Math.round(this.#timeoutMs / 1000)} s: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
        this.#fields(),
        { cause: error },
      );
    }
    if (this.#closing) {
      await next.close().catch(() => undefined);
      throw new SshReconnectError("the shell was closed", this.#fields());
    }
    const old = this.#current;
    this.#current = next;
    this.#reconnects += 1;
    await old.close().catch(() => undefined);
  }

  #fields(): { reconnects: number } {
    return { reconnects: this.#reconnects };
  }
}
