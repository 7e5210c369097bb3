import { type ChildProcess, spawn } from "node:child_process";
import { connect, createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { CliError } from "../cli-error.ts";
import { EXIT_USAGE } from "../exit-codes.ts";

/** The host's loopback as QEMU user-mode networking (SLIRP) shows it to the guest. */
export const GUEST_HOST_ADDRESS = "10.0.2.2";

/**
 * `git daemon` serving one base directory, read-only, on 127.0.0.1 and a free port. The guest
 * reaches it at `git://10.0.2.2:PORT/<name>` (SLIRP forwards 10.0.2.2 to the host's loopback).
 */
export class GitDaemon {
  readonly port: number;
  readonly #process: ChildProcess;

  private constructor(port: number, child: ChildProcess) {
    this.port = port;
    this.#process = child;
  }

  /**
   * Starts the daemon and waits until it listens.
   * @throws CidevError `CIDEV_GIT_DAEMON` when git daemon cannot start
   */
  static async start(baseDir: string): Promise<GitDaemon> {
    const port = await freePort();
    const child = spawn(
      "git",
      [
        "daemon",
        "--export-all",
        `--base-path=${baseDir}`,
        "--listen=127.0.0.1",
        `--port=${port}`,
        "--reuseaddr",
        "--informative-errors",
      ],
      // Its own process group: a terminal's Ctrl-C goes to the CLI alone, which stops the job
      // first and the daemon after it (the guest may still be fetching).
      { stdio: ["ignore", "ignore", "pipe"], detached: true },
    );
    // ...and it never outlives the CLI, even one that exits at once (a second Ctrl-C).
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);
    child.once("exit", () => process.off("exit", killOnExit));
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
    for (let i = 0; i < 200; i++) {
      const failed = await Promise.race([spawnError, sleep(25).then(() => undefined)]);
      if (failed !== undefined || child.exitCode !== null) {
        throw new CliError(
          "CLI_GIT_DAEMON",
          `git daemon did not start: ${failed?.message ?? stderr.trim()}`,
          {
            exitCode: EXIT_USAGE,
            hint: "the repository is served with `git daemon` (Debian: apt-get install git)",
          },
        );
      }
      if (await listening(port)) return new GitDaemon(port, child);
    }
    child.kill();
    throw new CliError("CLI_GIT_DAEMON", `git daemon did not listen on 127.0.0.1:${port}: ${stderr.trim()}`, {
      exitCode: EXIT_USAGE,
      hint: "try again (another program may have taken the port)",
    });
  }

  /** The URL the guest clones `name` (a directory under the base path) from. */
  guestUrl(name: string): string {
    return `git://${GUEST_HOST_ADDRESS}:${this.port}/${name}`;
  }

  /** Stops the daemon and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.#process.exitCode !== null || this.#process.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#process.once("exit", () => resolve()));
    this.#process.kill("SIGTERM");
    await Promise.race([exited, sleep(3000).then(() => this.#process.kill("SIGKILL"))]);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True once something accepts connections on the port (the daemon). */
async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
