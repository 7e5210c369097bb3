import { type ChildProcess, spawn } from "node:child_process";
import { chmod, writeFile } from "node:fs/promises";
import { isAbsolute, relative, resolve } from "node:path";
import {
  collectOutput,
  type ExecOptions,
  type ExecResult,
  type GuestShell,
  type RunResult,
} from "../exec/guest-shell.ts";

// The `local` backend's GuestShell: commands run with /bin/sh on the host, from a "home"
// directory that stands for the guest user's home. `$HOME` names it, so the workspace script puts
// the workspace and the run directory under it and the engine's guest layout (derived from the
// workspace path that script prints) is made of real host paths inside it — no path mapping.
// For unit tests only (see ./index.ts): nothing isolates the commands from the host.

/**
 * A shell whose guest is a directory on this host.
 *
 * @example
 *   const shell = new LocalGuestShell("/tmp/solstice-local-job-1/home");
 *   await shell.run("echo $HOME"); // { exitCode: 0, stdout: "/tmp/solstice-local-job-1/home\n", ... }
 *   await shell.close();
 */
export class LocalGuestShell implements GuestShell {
  /** The stand-in for the guest user's home (absolute); commands start here. */
  readonly home: string;
  readonly #env: Readonly<Record<string, string>>;
  /** How to end each command still running (kill its process group, stop waiting for it). */
  readonly #running = new Set<() => void>();
  #closed = false;

  constructor(home: string) {
    if (!isAbsolute(home)) throw new TypeError(`the local guest's home must be absolute, got ${home}`);
    this.home = resolve(home);
    // A small, fixed environment, as a fresh guest login has: not the test runner's.
    this.#env = {
      HOME: this.home,
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      SHELL: "/bin/sh",
      LANG: "C.UTF-8",
      ...(process.env.USER === undefined ? {} : { USER: process.env.USER, LOGNAME: process.env.USER }),
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs `command` with `/bin/sh -c` in its own process group. Resolves when it exited and its
   * output was read to the end (as an SSH channel closes). Aborting kills its process group and
   * resolves at once with no status. (A step's own process group, which its runner starts with
   * `setsid`, is the step runner's to kill, as in a VM.)
   */
  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    if (this.#closed) return Promise.reject(new Error(`the local guest shell in ${this.home} is closed`));
    return new Promise((resolvePromise, reject) => {
      const child = spawn("/bin/sh", ["-c", command], {
        cwd: this.home,
        env: this.#env,
        detached: true,
        stdio: ["pipe", "pipe", "pipe"],
      });
      let settled = false;
      const settle = (outcome: { result: ExecResult } | { error: Error }): void => {
        if (settled) return;
        settled = true;
        options.signal?.removeEventListener("abort", onAbort);
        this.#running.delete(onAbort);
        if ("result" in outcome) resolvePromise(outcome.result);
        else reject(outcome.error);
      };
      const onAbort = (): void => {
        killGroup(child, "SIGKILL");
        child.stdout?.destroy();
        child.stderr?.destroy();
        settle({ result: { exitCode: null, signal: null } });
      };
      child.once("error", (error) => settle({ error }));
      this.#running.add(onAbort);
      child.stdout?.on("data", (chunk: Buffer) => options.onStdout?.(chunk));
      child.stderr?.on("data", (chunk: Buffer) => options.onStderr?.(chunk));
      child.once("close", (code, signal) =>
        // ssh2 names signals without the SIG prefix ("TERM"); so does this.
        settle({ result: { exitCode: code, signal: signal === null ? null : signal.replace(/^SIG/, "") } }),
      );
      // A command that exits without reading its stdin must not fail the write.
      child.stdin?.on("error", () => undefined);
      if (options.stdin === undefined) child.stdin?.end();
      else child.stdin?.end(typeof options.stdin === "string" ? options.stdin : Buffer.from(options.stdin));
      options.signal?.addEventListener("abort", onAbort, { once: true });
      if (options.signal?.aborted) onAbort();
    });
  }

  async run(
    command: string,
    options: { stdin?: string | Uint8Array; signal?: AbortSignal } = {},
  ): Promise<RunResult> {
    return collectOutput(this, command, options);
  }

  /** Writes the file; only inside the home directory (a bug must not write anywhere on the host). */
  async upload(path: string, content: string | Uint8Array, mode: number): Promise<void> {
    const inside = relative(this.home, resolve(path));
    if (!isAbsolute(path) || inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
      throw new Error(`upload ${path}: outside the local guest's home ${this.home}`);
    }
    if (this.#closed) throw new Error(`upload ${path}: the local guest shell in ${this.home} is closed`);
    await writeFile(path, content, { mode });
    // The umask applies at creation, as over SFTP.
    await chmod(path, mode);
  }

  /**
   * Closes the shell: commands still running are killed (their process groups) and end without
   * a status, as when a VM goes away under its SSH connection.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const end of [...this.#running]) end();
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}
