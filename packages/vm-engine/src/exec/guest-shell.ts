// What job execution needs of a guest: run commands (buffered or streamed), write files, close.
// SshSession is the real one (a VM over SSH); the `local` backend (`@solstice/vm-engine/local`)
// runs the same commands on the host, for unit tests. A step's environment, working directory and
// timeout are not options here: the step's launcher sets env and cwd, and the step runner kills
// the step's process group by a second command — both must work the same over SSH, where closing
// a channel kills nothing.

/** How a command ended: its exit code, or the signal that killed it. */
export interface ExecResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/** Options of {@link GuestShell.exec}. */
export interface ExecOptions {
  readonly onStdout?: (chunk: Buffer) => void;
  readonly onStderr?: (chunk: Buffer) => void;
  /** Sent, then end-of-file. Without it the command's stdin is closed at once. */
  readonly stdin?: string | Uint8Array;
  /**
   * Aborting stops waiting for the command: `exec` resolves with a null exit code and signal.
   * Over SSH that only closes the channel (the guest process may go on), so killing a step is
   * the step runner's job.
   */
  readonly signal?: AbortSignal | undefined;
}

/** A buffered command's result. */
export interface RunResult extends ExecResult {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A shell in the job's guest. Commands are POSIX shell command lines run from the guest user's
 * home directory (`$HOME` is set); paths are the guest's, absolute.
 *
 * @example
 *   const shell: GuestShell = await hypervisor.connectGuest(vm, { timeoutMs: 120_000 });
 *   const { stdout } = await shell.run("uname -a");
 *   await shell.upload(`${home}/step.sh`, "echo hi\n", 0o755);
 *   await shell.exec(`sh ${home}/step.sh`, { onStdout: (chunk) => process.stdout.write(chunk) });
 *   await shell.close();
 */
export interface GuestShell {
  /**
   * Run `command`, streaming its output. Resolves when it ended (or the connection did), with
   * its exit code or signal, both null when there is no status (aborted, connection lost).
   * Rejects only when the command cannot be started at all (the connection is closed).
   */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Run a small command and collect its output (probes and setup commands, not steps). */
  run(command: string, options?: { stdin?: string | Uint8Array; signal?: AbortSignal }): Promise<RunResult>;
  /** Write `content` to the absolute guest path `path` with `mode` (e.g. 0o755); its directory exists. */
  upload(path: string, content: string | Uint8Array, mode: number): Promise<void>;
  /** Whether the connection to the guest has closed (a step without status is then explained by it). */
  readonly closed: boolean;
  /**
   * After the connection dropped ({@link closed}): make a new one, within the shell's bounds
   * (see ReconnectingGuestShell), so commands work again; a step's follower then resumes. Rejects
   * when it cannot. Shells without it (the local backend's) cannot lose their connection.
   */
  reconnect?(): Promise<void>;
  /** Close the connection (idempotent). */
  close(): Promise<void>;
}

/**
 * `run` in terms of `exec`: runs `command` and collects its output as text. Every guest shell's
 * `run` is this.
 */
export async function collectOutput(
  shell: Pick<GuestShell, "exec">,
  command: string,
  options: { stdin?: string | Uint8Array; signal?: AbortSignal } = {},
): Promise<RunResult> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const result = await shell.exec(command, {
    ...options,
    onStdout: (chunk) => stdout.push(chunk),
    onStderr: (chunk) => stderr.push(chunk),
  });
  return {
    ...result,
    stdout: Buffer.concat(stdout).toString("utf8"),
    stderr: Buffer.concat(stderr).toString("utf8"),
  };
}
