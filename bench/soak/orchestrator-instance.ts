import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";
import type { ImageEntry } from "@solstice/common";
import { freePort, ROOT, writeImageMap } from "../orchestrator-throughput/setup.ts";
import { memoryOf } from "./host-inspection.ts";

/** How to start the service; the same every time, so a restart finds its previous run's state. */
export interface OrchestratorSettings {
  readonly image: ImageEntry;
  readonly capacity: number;
  /** Its image map, state directory (STATE_DIR) and logs go here. */
  readonly dir: string;
  /** The queue settings' environment (`mqConfigEnv`), AMQP_URL possibly through a proxy. */
  readonly mqEnv: Record<string, string>;
  /** Possibly through a proxy. */
  readonly databaseUrl: string;
  readonly hostId: string;
}

/**
 * `solstice-orchestrator run` as a child process (from source, as the other benches start it),
 * which the soak kills with SIGKILL and starts again on the same HOST_ID, STATE_DIR and database,
 * as a crashed service's supervisor would. Each start's log goes to `orchestrator-<n>.log`; its
 * memory is sampled every second (VmHWM, VmRSS) so that the peak across restarts is known.
 */
export class OrchestratorInstance {
  readonly #settings: OrchestratorSettings;
  #child: ChildProcess | undefined;
  #log: WriteStream | undefined;
  #sampler: NodeJS.Timeout | undefined;
  #starts = 0;
  #peakHwmMb = 0;
  #peakRssMb = 0;
  readonly #httpPorts: number[] = [];

  constructor(settings: OrchestratorSettings) {
    this.#settings = settings;
  }

  get stateDir(): string {
    return join(this.#settings.dir, "state");
  }

  get vmRoot(): string {
    return join(this.stateDir, "vms");
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get starts(): number {
    return this.#starts;
  }

  /** Every port its HTTP API listened on, one per start. */
  get httpPorts(): readonly number[] {
    return this.#httpPorts;
  }

  /** The highest VmHWM / VmRSS sampled across every start, in MB. */
  get peak(): { hwmMb: number; rssMb: number } {
    return { hwmMb: this.#peakHwmMb, rssMb: this.#peakRssMb };
  }

  logPath(start: number): string {
    return join(this.#settings.dir, `orchestrator-${start}.log`);
  }

  /** Starts it and waits until /readyz answers (start-up recovery has run by then). */
  async start(): Promise<void> {
    const s = this.#settings;
    const imageMap = join(s.dir, "images.json");
    await writeImageMap(imageMap, s.image);
    const port = await freePort();
    this.#httpPorts.push(port);
    this.#starts += 1;
    const log = createWriteStream(this.logPath(this.#starts));
    const child = spawn(
      process.execPath,
      [
        "--max-semi-space-size=8",
        "--conditions=@solstice/source",
        join(ROOT, "packages/orchestrator/src/main.ts"),
        "run",
      ],
      {
        env: {
          PATH: process.env["PATH"] ?? "",
          HOME: process.env["HOME"] ?? "/tmp",
          LOG_LEVEL: "info",
          ORCH_CONFIG: imageMap,
          MAX_CONCURRENCY: String(s.capacity),
          CAPACITY_MAP: `${s.image.label}=${s.capacity}`,
          DATABASE_URL: s.databaseUrl,
          ...s.mqEnv,
          HTTP_ADDR: `127.0.0.1:${port}`,
          HOST_ID: s.hostId,
          STATE_DIR: this.stateDir,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.#child = child;
    this.#log = log;
    this.#sampler = setInterval(() => void this.#sample(), 1000);
    for (let ready = false; !ready; ) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(
          `the orchestrator exited (${child.exitCode ?? child.signalCode}) during start-up; see ${this.logPath(this.#starts)}`,
        );
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** SIGKILL: no shutdown of any kind; its QEMU children live on until the next start recovers them. */
  async kill9(): Promise<void> {
    await this.#sample();
    await this.#signalAndWait("SIGKILL");
  }

  /** SIGTERM (graceful: drains running jobs), a second one after 60 s, SIGKILL after 120 s. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    await this.#sample();
    const child = this.#child;
    if (child === undefined) return { code: null, signal: null };
    const again = setTimeout(() => child.kill("SIGTERM"), 60_000);
    const kill = setTimeout(() => child.kill("SIGKILL"), 120_000);
    try {
      return await this.#signalAndWait("SIGTERM");
    } finally {
      clearTimeout(again);
      clearTimeout(kill);
    }
  }

  async #signalAndWait(
    signal: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.#child;
    if (child === undefined) return { code: null, signal: null };
    clearInterval(this.#sampler);
    const exited =
      child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
        : new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
            child.once("exit", (code, sig) => resolve({ code, signal: sig })),
          );
    child.kill(signal);
    const result = await exited;
    this.#log?.end();
    this.#child = undefined;
    return result;
  }

  async #sample(): Promise<void> {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    const memory = await memoryOf(pid);
    if (memory === undefined) return;
    this.#peakHwmMb = Math.max(this.#peakHwmMb, memory.hwmMb);
    this.#peakRssMb = Math.max(this.#peakRssMb, memory.rssMb);
  }
}
