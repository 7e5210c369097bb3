import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ImageEntry } from "@solstice/common";
import { REPO_ROOT } from "./cli-runner.ts";
import { eventually } from "./eventually.ts";
import { fastGuestImage, freePort } from "./vm-guests.ts";

// The orchestrator as the tests of every package meet it: a child process started from source
// (`solstice-orchestrator run`), configured by its environment as deployed. Tests of other
// packages (the forge runners, the benches) use it instead of importing the service.

/** The orchestrator's entry point, run from source (Node strips the types). */
export const ORCHESTRATOR_MAIN_TS = join(REPO_ROOT, "packages", "orchestrator", "src", "main.ts");

/** A temporary directory for one test file; `remove()` deletes it. */
export async function tempDir(label: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `solstice-${label}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * An image map file in `dir` serving the fast test guest as `solstice-fast-guest`, alias `fast`.
 * Written as JSON, which is YAML too.
 */
export async function writeFastGuestImageMap(dir: string): Promise<{ path: string; image: ImageEntry }> {
  const image = await fastGuestImage();
  const path = join(dir, "images.yaml");
  const map = {
    default_label: image.label,
    aliases: { fast: image.label },
    images: {
      [image.label]: {
        source: image.source,
        local_path: image.localPath,
        format: image.format,
        nocloud: true,
        ssh_user: image.sshUser,
        kernel: image.kernel,
        initrd: image.initrd,
        append: image.append,
        defaults: { cpu: 1, ram_mb: 512, disk_gb: 1 },
      },
    },
  };
  await writeFile(path, `${JSON.stringify(map, null, 2)}\n`);
  return { path, image };
}

/** `solstice-orchestrator run` as a child process, for tests of process behaviour and of the runners. */
export class OrchestratorProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #output = "";

  private constructor(child: ChildProcess) {
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    child.stdout?.on("data", (chunk: Buffer) => {
      this.#output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      this.#output += chunk.toString();
    });
  }

  /** Starts `solstice-orchestrator run` with `env` (plus PATH, HOME, LOG_LEVEL=info and WARM_STARTS=false unless `env` sets them). */
  static start(env: Record<string, string>): OrchestratorProcess {
    const child = spawn(process.execPath, ["--conditions=@solstice/source", ORCHESTRATOR_MAIN_TS, "run"], {
      env: {
        PATH: process.env["PATH"] ?? "",
        HOME: process.env["HOME"] ?? tmpdir(),
        LOG_LEVEL: "info",
        // A template boot beside each test's first job would double its VMs and its CPU; the
        // warm-start tests turn this on themselves.
        WARM_STARTS: "false",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new OrchestratorProcess(child);
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error("the service did not start");
    return this.child.pid;
  }

  /** Everything it printed (JSON log lines). */
  output(): string {
    return this.#output;
  }

  /**
   * Waits until `GET url/readyz` answers 200 (with `token` as the bearer token when the service
   * has HTTP_TOKEN); fails with the service's output if it exits.
   */
  async waitReady(url: string, timeoutMs = 120_000, token?: string): Promise<void> {
    let exited = false;
    void this.exited.then(() => {
      exited = true;
    });
    await eventually(
      `the service ready at ${url}`,
      async () => {
        if (exited) throw new Error(`the service exited during start-up:\n${this.#output.slice(-4000)}`);
        try {
          const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
          return (await fetch(`${url}/readyz`, { headers })).status === 200;
        } catch {
          return false;
        }
      },
      timeoutMs,
    );
  }

  /** Sends a signal; resolves when the process has exited. */
  async stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/**
 * An orchestrator on the fast guest as the forge runners' rigs use it: its own process, one job
 * at a time, its image map, state (PGlite) and API port under `dir`, on the queue `mqEnv` names.
 * Resolves once it is ready.
 */
export async function startFastGuestOrchestrator(input: {
  readonly dir: string;
  readonly mqEnv: Record<string, string>;
  readonly hostId: string;
}): Promise<{ stop(): Promise<unknown> }> {
  const { path, image } = await writeFastGuestImageMap(input.dir);
  const httpPort = await freePort();
  const service = OrchestratorProcess.start({
    ...input.mqEnv,
    ORCH_CONFIG: path,
    MAX_CONCURRENCY: "1",
    CAPACITY_MAP: `${image.label}=1`,
    HTTP_ADDR: `127.0.0.1:${httpPort}`,
    HOST_ID: input.hostId,
    STATE_DIR: join(input.dir, "orchestrator"),
  });
  await service.waitReady(`http://127.0.0.1:${httpPort}`);
  return { stop: () => service.stop("SIGTERM") };
}
