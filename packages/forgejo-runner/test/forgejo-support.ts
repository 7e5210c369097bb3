import { join } from "node:path";
import { Writable } from "node:stream";
import { type MqConfig, mqConfigEnv, mqConfigFromEnv } from "@solstice/common";
import { ForgejoTestServer } from "@solstice/forgejo-test-server";
import { type HttpAddr, parseRunnerLabels } from "@solstice/runner-core";
import {
  CapturedLog,
  deleteMqByPrefix,
  freePort,
  mqPrefix,
  mqTestEnv,
  qemuProcessesUsing,
  requireRabbitMQ,
  startFastGuestOrchestrator,
  tempDir,
} from "@solstice/test-support";
import { type Logger, pino } from "pino";
import { registerRunner } from "../src/cli/register-command.ts";
import { type RunnerDaemon, startRunnerDaemon } from "../src/daemon/runner-daemon.ts";

export { CapturedLog, makeRepository } from "@solstice/test-support";

// The end-to-end rig of the Forgejo runner's tests: the Forgejo protocol test server (reachable
// from guests at 10.0.2.2), a git repository it serves, a real orchestrator on the fast guest
// (RabbitMQ with private names, PGlite), and the runner registered and running in-process with
// short intervals. Logs are captured as JSON lines to check what operators would read.

/** The guest label the rig serves (the fast guest's, plus its alias). */
export const LABEL = "solstice-fast-guest";

/** The rig. */
export class ForgejoRig {
  readonly server: ForgejoTestServer;
  readonly dir: string;
  readonly mq: MqConfig;
  readonly stateFile: string;
  readonly log = new CapturedLog();
  readonly logger: Logger;
  readonly #prefix: string;
  readonly #removeDir: () => Promise<void>;
  readonly #orchestrator: { stop(): Promise<unknown> };
  daemon: RunnerDaemon | undefined;

  private constructor(init: {
    server: ForgejoTestServer;
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
    this.#prefix = init.prefix;
    this.#orchestrator = init.orchestrator;
    this.stateFile = join(init.dir, "runner", ".runner");
    this.logger = pino({ level: "debug" }, this.log.stream);
  }

  /** Test server + orchestrator (no runner yet). */
  static async start(label: string, options: { withOrchestrator?: boolean } = {}): Promise<ForgejoRig> {
    await requireRabbitMQ();
    const temp = await tempDir(`forgejo-${label}`);
    const prefix = mqPrefix(`fj-${label}`);
    const mq = mqConfigFromEnv(
      mqTestEnv(prefix, { AMQP_PREFETCH: 1, AMQP_RETRY_DELAY_MS: 100, AMQP_PUBLISH_TIMEOUT_MS: 15_000 }),
    );
    const port = await freePort();
    const server = await ForgejoTestServer.start({ port, publicUrl: `http://10.0.2.2:${port}` });
    let orchestrator: { stop(): Promise<unknown> } = { stop: async () => undefined };
    if (options.withOrchestrator !== false) {
      // The orchestrator as deployed: its own process (PGlite under its state directory).
      orchestrator = await startFastGuestOrchestrator({
        dir: temp.path,
        mqEnv: mqConfigEnv(mq),
        hostId: `fj-${label}`,
      });
    }
    return new ForgejoRig({ server, dir: temp.path, removeDir: temp.remove, mq, prefix, orchestrator });
  }

  /** Registers the runner (labels: the fast guest's label and alias). */
  async register(): Promise<void> {
    const out: string[] = [];
    const sink = new Writable({
      write: (chunk: Buffer, _e, done) => {
        out.push(chunk.toString());
        done();
      },
    });
    const code = await registerRunner(
      { stdout: sink, stderr: sink, env: {}, cwd: this.dir, action: () => async () => undefined },
      {
        instance: this.server.url,
        token: this.server.createRegistrationToken(),
        name: "solstice-test",
        labels: parseRunnerLabels([LABEL, "fast"]),
        stateFile: this.stateFile,
        force: false,
      },
    );
    if (code !== 0) throw new Error(`register exited ${code}: ${out.join("")}`);
  }

  /** Starts the daemon with short intervals. */
  async startDaemon(
    overrides: { authRetryMs?: number; cancelGraceMs?: number; httpAddr?: HttpAddr } = {},
  ): Promise<RunnerDaemon> {
    this.daemon = await startRunnerDaemon(
      {
        stateFile: this.stateFile,
        labels: parseRunnerLabels([LABEL, "fast"]),
        capacity: 1,
        mq: this.mq,
        fetchIntervalMs: 200,
        reportIntervalMs: 300,
        ...overrides,
      },
      this.logger,
    );
    return this.daemon;
  }

  /** QEMU processes of this rig's orchestrator still alive. */
  vms(): Promise<number[]> {
    return qemuProcessesUsing(join(this.dir, "orchestrator"));
  }

  async stop(): Promise<void> {
    await this.daemon?.stop();
    await this.#orchestrator.stop();
    await this.server.close();
    await deleteMqByPrefix(this.#prefix);
    await this.#removeDir();
  }
}
