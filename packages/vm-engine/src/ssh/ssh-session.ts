import { createConnection, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Client, type ClientChannel, type SFTPWrapper } from "ssh2";
import { SshCommandError, SshConnectError } from "../errors.ts";
import {
  collectOutput,
  type ExecOptions,
  type ExecResult,
  type GuestShell,
  type RunResult,
} from "../exec/guest-shell.ts";

// An SSH connection to a guest (ssh2): a VM's GuestShell. Exec with streamed output, buffered
// exec for small commands, uploads by SFTP that keep the file mode (ADR-002: SFTP writes need an
// explicit chmod), and connecting with retries while the guest boots.
// The guest's host key is not verified: the guest is made for this job, reached only through a
// loopback port forward, and its host key is generated at its first boot.

/** Where and as whom to connect. */
export interface SshConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** OpenSSH private key text (kept in memory; never logged). */
  readonly privateKey: string;
  /** Budget for one connection attempt, TCP to authenticated. Default 20 s. */
  readonly readyTimeoutMs?: number;
  /** SSH keepalive interval, so a dead guest is noticed during a long step. Default 15 s. */
  readonly keepaliveIntervalMs?: number;
  /**
   * An already connected socket to use instead of connecting (for instance one on which the
   * server's banner already arrived, see {@link SshSession.connectWithRetry}).
   */
  readonly sock?: Socket;
}

/** Options of {@link SshSession.connectWithRetry}. */
export interface SshRetryOptions extends Omit<SshConnectOptions, "sock"> {
  /** Total budget. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** First pause between attempts (doubling up to `maxDelayMs`). Default 250 ms. */
  readonly initialDelayMs?: number;
  /** Default 1000 ms. */
  readonly maxDelayMs?: number;
  /**
   * How often a new TCP probe is started while none has seen the server's banner. Default 1000 ms.
   * QEMU's user-mode network accepts a forwarded connection before the guest can answer and may
   * hold it silently for a long time; probes overlap, so the first one the guest answers wins.
   */
  readonly probeIntervalMs?: number;
  /** A probe without a banner after this long is dropped. Default 15 s. */
  readonly probeMaxAgeMs?: number;
  /** Asked before each attempt: a reason to stop trying now (e.g. QEMU exited), or undefined. */
  readonly giveUp?: () => string | undefined;
  /** Called after each failed attempt. */
  readonly onAttemptFailed?: (attempt: number, error: Error) => void;
}

/**
 * An authenticated SSH connection.
 *
 * @example
 *   const ssh = await SshSession.connectWithRetry({ host: "127.0.0.1", port, username: "root",
 *     privateKey, timeoutMs: 120_000 });
 *   const { stdout } = await ssh.run("uname -a");
 *   await ssh.upload("/root/step.sh", "echo hi\n", 0o755);
 *   await ssh.close();
 */
export class SshSession implements GuestShell {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly #client: Client;
  #sftp: Promise<SFTPWrapper | undefined> | undefined;
  #closed = false;
  #closeError: Error | undefined;
  readonly #closedPromise: Promise<void>;

  private constructor(options: SshConnectOptions, client: Client) {
    this.host = options.host;
    this.port = options.port;
    this.username = options.username;
    this.#client = client;
    client.on("error", (error) => {
      this.#closeError = error;
    });
    this.#closedPromise = new Promise((resolve) => {
      client.once("close", () => {
        this.#closed = true;
        resolve();
      });
    });
  }

  /** One connection attempt. Rejects with {@link SshConnectError}. */
  static connect(options: SshConnectOptions): Promise<SshSession> {
    const sock = options.sock;
    return new Promise((resolve, reject) => {
      const client = new Client();
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        client.end();
        client.destroy();
        reject(new SshConnectError(options.host, options.port, error.message, { cause: error }));
      };
      client.once("ready", () => {
        if (settled) return;
        settled = true;
        client.off("error", fail);
        resolve(new SshSession(options, client));
      });
      client.on("error", fail);
      client.once("close", () => fail(new Error("connection closed before authentication")));
      client.connect({
        ...(sock === undefined ? {} : { sock }),
        host: options.host,
        port: options.port,
        username: options.username,
        privateKey: options.privateKey,
        readyTimeout: options.readyTimeoutMs ?? 20_000,
        keepaliveInterval: options.keepaliveIntervalMs ?? 15_000,
        keepaliveCountMax: 4,
        hostVerifier: () => true,
      });
    });
  }

  /**
   * Connect, retrying until `timeoutMs`: a booting guest refuses, resets or stalls connections
   * until its SSH server runs. Overlapping TCP probes wait for the server's banner (see
   * {@link SshRetryOptions.probeIntervalMs}); the SSH handshake runs on the first socket that
   * gets one, and is retried (with backoff) if it fails, e.g. before the guest installed the key.
   * Rejects with {@link SshConnectError} carrying the last error (`aborted` set when `giveUp` or
   * `signal` stopped it).
   */
  static async connectWithRetry(options: SshRetryOptions): Promise<SshSession> {
    const deadline = Date.now() + options.timeoutMs;
    let delay = options.initialDelayMs ?? 250;
    const maxDelay = options.maxDelayMs ?? 1000;
    let lastError: Error | undefined;
    const stopReason = (): string | undefined => {
      if (options.signal?.aborted) return "connection attempts cancelled";
      return options.giveUp?.();
    };
    for (let attempt = 1; ; attempt++) {
      const reason = stopReason();
      if (reason !== undefined)
        throw new SshConnectError(options.host, options.port, reason, { aborted: true });
      if (Date.now() >= deadline) break;
      let sock: Socket;
      try {
        sock = await raceForBanner(options, deadline, stopReason);
      } catch (error) {
        if (error instanceof SshConnectError && error.aborted) throw error;
        lastError = error instanceof Error ? error : new Error(String(error));
        break;
      }
      try {
        return await SshSession.connect({
          ...options,
          sock,
          readyTimeoutMs: Math.min(options.readyTimeoutMs ?? 20_000, Math.max(deadline - Date.now(), 1000)),
        });
      } catch (error) {
        lastError = error instanceof Error ? error : new Error(String(error));
        options.onAttemptFailed?.(attempt, lastError);
      }
      const pause = Math.min(delay, deadline - Date.now());
      if (pause > 0) {
        await sleep(
          pause,
          undefined,
          options.signal === undefined ? undefined : { signal: options.signal },
        ).catch(() => undefined);
      }
      delay = Math.min(delay * 2, maxDelay);
    }
    const cause = lastError?.cause instanceof Error ? lastError.cause : lastError;
    throw new SshConnectError(
      options.host,
      options.port,
      `no SSH session within ${options.timeoutMs} ms${cause === undefined ? "" : ` (last attempt: ${cause.message})`}`,
      { cause: lastError },
    );
  }

  /** Whether the connection has closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves when the connection closes. */
  whenClosed(): Promise<void> {
    return this.#closedPromise;
  }

  /**
   * Run `command` (interpreted by the user's login shell), streaming its output. Resolves when
   * the channel closes, with the exit code (or the signal) the server reported; `exitCode` and
   * `signal` are both null when the channel closed without a status (aborted, connection lost).
   * Rejects with {@link SshCommandError} when the channel cannot be opened.
   */
  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new SshCommandError("exec", `the SSH connection is closed`, { cause: this.#closeError }));
        return;
      }
      this.#client.exec(command, (error, channel: ClientChannel) => {
        if (error) {
          reject(new SshCommandError("exec", `cannot open a channel: ${error.message}`, { cause: error }));
          return;
        }
        let exitCode: number | null = null;
        let signal: string | null = null;
        const onAbort = (): void => {
          channel.close();
        };
        options.signal?.addEventListener("abort", onAbort, { once: true });
        if (options.signal?.aborted) onAbort();
        channel.on("exit", (code: number | null, signalName?: string) => {
          if (typeof code === "number") exitCode = code;
          if (typeof signalName === "string") signal = signalName;
        });
        channel.on("data", (chunk: Buffer) => options.onStdout?.(chunk));
        channel.stderr.on("data", (chunk: Buffer) => options.onStderr?.(chunk));
        channel.once("close", () => {
          options.signal?.removeEventListener("abort", onAbort);
          resolve({ exitCode, signal });
        });
        if (options.stdin === undefined) channel.end();
        else channel.end(typeof options.stdin === "string" ? options.stdin : Buffer.from(options.stdin));
      });
    });
  }

  /** Run a small command and collect its output (for probes and setup commands, not for steps). */
  async run(
    command: string,
    options: { stdin?: string | Uint8Array; signal?: AbortSignal } = {},
  ): Promise<RunResult> {
    return collectOutput(this, command, options);
  }

  /**
   * Write `content` to `remotePath` with `mode` (e.g. 0o755), by SFTP, then chmod it explicitly
   * (the server's umask applies at creation). Guests without an SFTP server (a bare dropbear) get
   * the file through `cat` over an exec channel instead. The parent directory must exist.
   */
  async upload(remotePath: string, content: string | Uint8Array, mode: number): Promise<void> {
    const data = typeof content === "string" ? Buffer.from(content, "utf8") : Buffer.from(content);
    const sftp = await this.#sftpChannel();
    const operation = `upload ${remotePath}`;
    if (sftp !== undefined) {
      try {
        await sftpWrite(sftp, remotePath, data, mode);
        return;
      } catch (error) {
        // A guest's SFTP server can stop answering (seen with dropbear's under load) while the
        // connection itself is fine: from then on this session writes through `cat`.
        if (this.#closed) {
          throw new SshCommandError(operation, `SFTP write failed: ${(error as Error).message}`, {
            cause: error,
          });
        }
        this.#sftp = Promise.resolve(undefined);
        sftp.end();
      }
    }
    const quoted = `'${remotePath.replaceAll("'", `'\\''`)}'`;
    const result = await this.run(`cat > ${quoted} && chmod ${mode.toString(8)} ${quoted}`, { stdin: data });
    if (result.exitCode !== 0) {
      throw new SshCommandError(
        operation,
        `writing through cat failed (exit ${result.exitCode}): ${result.stderr.trim()}`,
      );
    }
  }

  /** Whether uploads go by SFTP (false: the guest has no SFTP server; `cat` is used). */
  async hasSftp(): Promise<boolean> {
    return (await this.#sftpChannel()) !== undefined;
  }

  /**
   * Test hook: kill the connection from the host side, without a goodbye, as a network failure
   * would: the TCP socket is destroyed, open channels end without a status, {@link closed} turns true.
   */
  dropConnection(): void {
    this.#client.destroy();
  }

  /** Close the connection (idempotent). */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#client.end();
      // A peer that never answers the disconnect must not hold us.
      const timer = setTimeout(() => this.#client.destroy(), 2000);
      await this.#closedPromise;
      clearTimeout(timer);
    }
  }

  #sftpChannel(): Promise<SFTPWrapper | undefined> {
    this.#sftp ??= new Promise((resolve) => {
      this.#client.sftp((error, sftp) => resolve(error ? undefined : sftp));
    });
    return this.#sftp;
  }
}

/**
 * Start TCP probes every `probeIntervalMs` (sooner after a probe was refused) and resolve with the
 * first socket on which the server has sent something (its banner), unread, so ssh2 can take it
 * over. Rejects with an SshConnectError at the deadline (last probe error as cause), or an aborted
 * one when `stopReason` gives a reason.
 */
function raceForBanner(
  options: SshRetryOptions,
  deadline: number,
  stopReason: () => string | undefined,
): Promise<Socket> {
  const interval = options.probeIntervalMs ?? 1000;
  const maxAge = options.probeMaxAgeMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const probes = new Map<Socket, number>();
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    let lastError: Error | undefined;
    let count = 0;
    const settle = (winner?: Socket, error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const probe of probes.keys()) if (probe !== winner) probe.destroy();
      probes.clear();
      if (winner !== undefined) resolve(winner);
      else reject(error);
    };
    const failed = (probe: Socket, error: Error): void => {
      if (settled || !probes.has(probe)) return;
      probes.delete(probe);
      probe.destroy();
      lastError = error;
      count += 1;
      options.onAttemptFailed?.(count, error);
      // Refused or reset: the guest answers now, so try again soon rather than at the next tick.
      schedule(Math.min(250, interval));
    };
    const schedule = (ms: number): void => {
      clearTimeout(timer);
      timer = setTimeout(tick, ms);
    };
    const tick = (): void => {
      if (settled) return;
      const reason = stopReason();
      if (reason !== undefined) {
        settle(undefined, new SshConnectError(options.host, options.port, reason, { aborted: true }));
        return;
      }
      const now = Date.now();
      if (now >= deadline) {
        settle(
          undefined,
          new SshConnectError(options.host, options.port, lastError?.message ?? "no SSH banner", {
            cause: lastError,
          }),
        );
        return;
      }
      for (const [probe, started] of probes) {
        if (now - started > maxAge) failed(probe, new Error(`no SSH banner within ${maxAge} ms`));
      }
      const probe = createConnection({ host: options.host, port: options.port });
      probes.set(probe, now);
      probe.once("error", (error) => failed(probe, error));
      probe.once("end", () => failed(probe, new Error("connection closed before the SSH banner")));
      probe.once("readable", () => {
        // "readable" also signals end-of-stream; only buffered bytes mean a banner.
        if (probe.readableLength === 0) {
          failed(probe, new Error("connection closed before the SSH banner"));
          return;
        }
        probe.removeAllListeners("error");
        probe.removeAllListeners("end");
        // ssh2 adds its own listener; until then an error must not go unhandled.
        probe.on("error", () => undefined);
        settle(probe);
      });
      schedule(Math.min(interval, Math.max(deadline - now, 1)));
    };
    tick();
  });
}

/** Writes a file by SFTP, then sets its mode explicitly (the server's umask applies at creation). */
async function sftpWrite(sftp: SFTPWrapper, path: string, data: Buffer, mode: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    sftp.writeFile(path, data, { mode }, (error) => (error ? reject(error) : resolve()));
  });
  await new Promise<void>((resolve, reject) => {
    sftp.chmod(path, mode, (error) => (error ? reject(error) : resolve()));
  });
}
