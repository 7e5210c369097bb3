import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { Writable } from "node:stream";
import { type CliContext, CliError } from "@solstice/cli-kit";
import { type MqConfig, mqConfigEnv, mqConfigFromEnv } from "@solstice/common";
import {
  type FeedLineRecord,
  GitHubTestServer,
  type GitHubTestServerOptions,
  type JobRecord,
} from "@solstice/github-test-server";
import { type HttpAddr, parseRunnerLabels } from "@solstice/runner-core";
import {
  CapturedLog,
  deleteMqByPrefix,
  eventually,
  mqPrefix,
  mqTestEnv,
  qemuProcessesUsing,
  REPO_ROOT,
  requireRabbitMQ,
  startFastGuestOrchestrator,
  tempDir,
} from "@solstice/test-support";
import { type Logger, pino } from "pino";
import { expect } from "vitest";
import { registerCommand } from "../src/cli/register-command.ts";
import { type DaemonMode, type RunnerDaemon, startRunnerDaemon } from "../src/daemon/runner-daemon.ts";

export { CapturedLog, makeRepository } from "@solstice/test-support";

// The GitHub runner's end-to-end rig: the GitHub protocol test server (the runner talks to it at
// 127.0.0.1; jobs' github.server_url says 10.0.2.2 so a guest's checkout reaches it), a git
// repository it serves, a real orchestrator on the fast guest (RabbitMQ with private names,
// PGlite), and the runner registered and running in-process. Logs are captured as JSON lines.

/** The guest label the rig serves. */
export const LABEL = "solstice-fast-guest";
export const REPO = "acme/widget";

/** The runner's entry point, run from source. */
const RUNNER_MAIN_TS = join(REPO_ROOT, "packages", "github-runner", "src", "main.ts");

/** `solstice-github-runner daemon` as a child process (a kill -9 is real). */
export class RunnerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #output = "";

  constructor(args: readonly string[], env: Record<string, string>) {
    this.child = spawn(
      process.execPath,
      ["--conditions=@solstice/source", RUNNER_MAIN_TS, "daemon", ...args],
      {
        env: {
          PATH: process.env["PATH"] ?? "",
          HOME: process.env["HOME"] ?? "/tmp",
          LOG_LEVEL: "debug",
          ...env,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    this.child.stdout?.on("data", (chunk: Buffer) => {
      this.#output += chunk.toString();
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.#output += chunk.toString();
    });
  }

  /** Everything it printed. */
  get output(): string {
    return this.#output;
  }

  /** Kills it (SIGKILL by default) and waits for the exit. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}

/** Collects what a CLI command prints. */
function cliContext(): { ctx: CliContext; output: string[] } {
  const output: string[] = [];
  const sink = new Writable({
    write: (chunk: Buffer, _e, done) => {
      output.push(chunk.toString());
      done();
    },
  });
  const ctx: CliContext = {
    stdout: sink,
    stderr: sink,
    env: {},
    cwd: "/",
    action: () => async () => undefined,
  };
  return { ctx, output };
}

/** The rig. */
export class GitHubRig {
  readonly server: GitHubTestServer;
  readonly dir: string;
  readonly stateDir: string;
  readonly mq: MqConfig;
  readonly log = new CapturedLog();
  readonly logger: Logger;
  /** The prefix of every RabbitMQ name of this rig. */
  readonly prefix: string;
  readonly #removeDir: () => Promise<void>;
  readonly #orchestrator: { stop(): Promise<unknown> };
  daemon: RunnerDaemon | undefined;
  process: RunnerProcess | undefined;

  private constructor(init: {
    server: GitHubTestServer;
    dir: string;
    removeDir: () => Promise<void>;
    mq: MqConfig;
    prefix: string;
    orchestrator: { stop(): Promise<unknown> };
  }) {
    this.server = init.server;
    this.dir = init.dir;
    this.#removeDir = init.removeDir;
    this.mq = init.mq;
    this.prefix = init.prefix;
    this.#orchestrator = init.orchestrator;
    this.stateDir = join(init.dir, "runner");
    this.logger = pino({ level: "debug" }, this.log.stream);
  }

  /** Test server + orchestrator (no runner yet). */
  static async start(
    label: string,
    options: { withOrchestrator?: boolean; server?: GitHubTestServerOptions } = {},
  ): Promise<GitHubRig> {
    await requireRabbitMQ();
    const temp = await tempDir(`github-${label}`);
    const prefix = mqPrefix(`gh-${label}`);
    const mq = mqConfigFromEnv(
      mqTestEnv(prefix, { AMQP_PREFETCH: 1, AMQP_RETRY_DELAY_MS: 100, AMQP_PUBLISH_TIMEOUT_MS: 15_000 }),
    );
    const server = await GitHubTestServer.start({
      messageHoldMs: 1000,
      guestUrl: "http://10.0.2.2:{port}",
      ...options.server,
    });
    let orchestrator: { stop(): Promise<unknown> } = { stop: async () => undefined };
    if (options.withOrchestrator !== false) {
      orchestrator = await startFastGuestOrchestrator({
        dir: temp.path,
        mqEnv: mqConfigEnv(mq),
        hostId: `gh-${label}`,
      });
    }
    return new GitHubRig({ server, dir: temp.path, removeDir: temp.remove, mq, prefix, orchestrator });
  }

  /** Registers the runner to {@link REPO} with a registration token, as `register` does. */
  async register(options: { ephemeral?: boolean; name?: string } = {}): Promise<void> {
    const { ctx, output } = cliContext();
    try {
      const code = await registerCommand(ctx, {
        url: this.server.gitHubUrl(REPO),
        token: this.server.createRegistrationToken(REPO),
        name: options.name ?? "solstice-test",
        labels: parseRunnerLabels([LABEL, "fast"]),
        ephemeral: options.ephemeral ?? false,
        replace: true,
        stateDir: this.stateDir,
      });
      if (code !== 0) throw new Error(`register exited ${code}: ${output.join("")}`);
    } catch (error) {
      if (error instanceof CliError) throw new Error(`register: ${error.message}: ${output.join("")}`);
      throw error;
    }
  }

  /** Starts the daemon with short intervals (default: the registered runner). */
  async startDaemon(
    overrides: {
      mode?: DaemonMode;
      removedRetryMs?: number;
      cancelGraceMs?: number;
      httpAddr?: HttpAddr;
    } = {},
  ): Promise<RunnerDaemon> {
    this.daemon = await startRunnerDaemon(
      {
        mode: overrides.mode ?? { kind: "registered" },
        stateDir: this.stateDir,
        labels: [LABEL, "fast"],
        mq: this.mq,
        reportIntervalMs: 300,
        ...(overrides.removedRetryMs === undefined ? {} : { removedRetryMs: overrides.removedRetryMs }),
        ...(overrides.cancelGraceMs === undefined ? {} : { cancelGraceMs: overrides.cancelGraceMs }),
        ...(overrides.httpAddr === undefined ? {} : { httpAddr: overrides.httpAddr }),
      },
      this.logger,
    );
    return this.daemon;
  }

  /** Starts the runner as its own process (the registered runner of {@link stateDir}). */
  startProcess(extraArgs: readonly string[] = [], env: Record<string, string> = {}): RunnerProcess {
    this.process = new RunnerProcess(
      ["--state-dir", this.stateDir, "--labels", `${LABEL},fast`, ...extraArgs],
      { ...mqConfigEnv(this.mq), GITHUB_RUNNER_REPORT_INTERVAL_MS: "300", ...env },
    );
    return this.process;
  }

  /** Waits until the job is completed (the runner's completejob arrived). */
  completed(id: string, timeoutMs = 240_000): Promise<JobRecord> {
    return this.server.waitForJob(id, (j) => j.status === "completed" || j.status === "abandoned", timeoutMs);
  }

  /** QEMU processes of this rig's orchestrator still alive. */
  vms(): Promise<number[]> {
    return qemuProcessesUsing(join(this.dir, "orchestrator"));
  }

  async stop(): Promise<void> {
    await this.daemon?.stop();
    await this.process?.kill("SIGTERM");
    await this.#orchestrator.stop();
    await this.server.close();
    await deleteMqByPrefix(this.prefix);
    await this.#removeDir();
  }
}

/** A job of two steps: 12 `tick N` lines a second apart, then `lastStep` (which prints `second-step`). */
export function ticksWorkflow(lastStep = "echo second-step"): string {
  return `on: push
jobs:
  ticks:
    runs-on: fast
    steps:
      - run: i=1; while [ $i -le 12 ]; do echo "tick $i"; i=$((i+1)); sleep 1; done
      - run: ${lastStep}
`;
}

/** The `tick N` lines of a log, without their prefixes (timestamps, step markers). */
export function ticks(log: string): string[] {
  return log
    .split("\n")
    .filter((l) => /\btick \d+$/.test(l))
    .map((l) => l.replace(/^.*\btick /, "tick "));
}

/** `tick 1` … `tick 12`: what a job's ticking step prints. */
export const TWELVE_TICKS = Array.from({ length: 12 }, (_, i) => `tick ${i + 1}`);

/**
 * A step's live lines, across restarts of the runner: no line number fed twice, and each fed line
 * the text the step's uploaded log has under that number (its timestamp aside). Returns how many
 * of the log's lines were fed (the batch in flight at a kill -9 may be missing from the feed).
 */
export function expectFedOnce(feed: readonly FeedLineRecord[], stepId: string, stepLog: string): number {
  const logLines = stepLog.split("\n").map((l) => l.slice(l.indexOf(" ") + 1));
  const fed = feed.filter((l) => l.stepId === stepId);
  const numbers = fed.map((l) => l.lineNumber);
  expect(numbers.every((n) => n !== undefined)).toBe(true);
  const twice = numbers.filter((n, i) => numbers.indexOf(n) !== i);
  expect(twice, "line numbers fed twice").toEqual([]);
  for (const line of fed)
    expect(line.text, `fed line ${line.lineNumber}`).toBe(logLines[line.lineNumber! - 1]);
  return fed.length;
}

/**
 * Removes the rig's runner on the server while it is idle and checks what the issue asks: one
 * clear error line, then the slow retry (the default 5 min): a handful of calls, not a loop.
 */
export async function expectRemovedWhileIdle(rig: GitHubRig): Promise<void> {
  const runner = rig.server.runners()[0];
  if (runner === undefined) throw new Error("no runner registered");
  const said = () =>
    rig.log.lines.slice(linesBefore).filter((l) => /register it again/.test(String(l["msg"])));
  const oauthCalls = () => rig.server.calls.filter((c) => c.endpoint === "oauth-token").length;
  const oauthBefore = oauthCalls();
  const linesBefore = rig.log.lines.length;
  rig.server.deleteRunner(runner.id);
  await eventually("the error said", () => said().length > 0, 60_000);
  await new Promise((resolve) => setTimeout(resolve, 4000));
  expect(said()).toHaveLength(1);
  expect(said()[0]?.["level"]).toBe(50);
  expect(oauthCalls() - oauthBefore).toBeLessThanOrEqual(3);
}
