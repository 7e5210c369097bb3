import { EventEmitter } from "node:events";
import { createConnection, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { LineSplitter } from "../io/line-splitter.ts";
import type { GuestConsole } from "./vm-types.ts";

// Tails a VM's serial console (QEMU's `-chardev socket,server=on` UNIX socket): lines are kept in
// a ring of the last N for error messages (a guest that never answers SSH is explained by its
// console) and handed to a forwarder while one is set. The engine forwards them into the job log
// as `system` lines until SSH execution starts, then stops forwarding, so no line appears twice
// (ADR-002: the original logged the console and the SSH output of the same commands).

/** Options of {@link ConsoleTailer.connect}. */
export interface ConsoleTailerOptions {
  /** How many recent lines to keep. Default 50. */
  readonly keepLines?: number;
  /** How long to wait for the socket to appear and accept. Default 10 s. */
  readonly timeoutMs?: number;
}

/** Events of a {@link ConsoleTailer}. */
export interface ConsoleTailerEvents {
  line: [string];
  /** The console closed (QEMU exited, or close() was called). */
  close: [];
}

/**
 * A connected console.
 *
 * @example
 *   const console = await ConsoleTailer.connect(vm.consoleSocket);
 *   console.forwardTo((line) => log.system(line));
 *   // ... once SSH execution starts:
 *   console.stopForwarding();
 *   console.lastLines(); // for an error message
 */
export class ConsoleTailer extends EventEmitter<ConsoleTailerEvents> implements GuestConsole {
  readonly socketPath: string;
  readonly #socket: Socket;
  readonly #splitter = new LineSplitter();
  readonly #keep: number;
  readonly #recent: string[] = [];
  #forward: ((line: string) => void) | undefined;
  #closed = false;
  readonly #closedPromise: Promise<void>;

  private constructor(socketPath: string, socket: Socket, keepLines: number) {
    super();
    this.socketPath = socketPath;
    this.#socket = socket;
    this.#keep = keepLines;
    socket.on("data", (chunk: Buffer) => {
      for (const line of this.#splitter.push(chunk)) this.#accept(line);
    });
    // A read error ends the tail like a close does; the console is best effort.
    socket.on("error", () => undefined);
    this.#closedPromise = new Promise((resolve) => {
      socket.once("close", () => {
        for (const line of this.#splitter.flush()) this.#accept(line);
        this.#closed = true;
        this.emit("close");
        resolve();
      });
    });
  }

  /** Connect to the console socket, retrying while QEMU has not created it yet. */
  static async connect(socketPath: string, options: ConsoleTailerOptions = {}): Promise<ConsoleTailer> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    let lastError: unknown;
    for (;;) {
      try {
        const socket = await openSocket(socketPath);
        return new ConsoleTailer(socketPath, socket, options.keepLines ?? 50);
      } catch (error) {
        lastError = error;
        if (Date.now() >= deadline) break;
        await sleep(25);
      }
    }
    throw new Error(`cannot connect to the serial console ${socketPath}: ${String(lastError)}`, {
      cause: lastError,
    });
  }

  /** Hand every line from now on to `forward` (replacing any earlier forwarder). */
  forwardTo(forward: (line: string) => void): void {
    this.#forward = forward;
  }

  /** Stop handing lines on; they are still kept for {@link lastLines}. */
  stopForwarding(): void {
    this.#forward = undefined;
  }

  /** The last lines (oldest first), at most `keepLines`. */
  lastLines(count = this.#keep): string[] {
    return this.#recent.slice(-count);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves when the console has closed (QEMU exited, or close() was called). */
  whenClosed(): Promise<void> {
    return this.#closedPromise;
  }

  /** Disconnect (QEMU keeps running). */
  async close(): Promise<void> {
    this.#forward = undefined;
    if (!this.#closed) this.#socket.destroy();
    await this.#closedPromise;
  }

  #accept(line: string): void {
    // Blank lines say nothing about a boot and would only pad the job log.
    if (line.trim() === "") return;
    this.#recent.push(line);
    if (this.#recent.length > this.#keep) this.#recent.splice(0, this.#recent.length - this.#keep);
    this.emit("line", line);
    this.#forward?.(line);
  }
}

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path });
    const onError = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(socket);
    });
  });
}
