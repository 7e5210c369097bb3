import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { ImageEntry } from "@solstice/common";
import {
  cancelTopology,
  type JobOwner,
  type MqConfig,
  mqConfigEnv,
  mqConfigFromEnv,
  ownerEventsTopology,
} from "@solstice/common";
import { createPostgresDb } from "@solstice/orchestrator";
import { mqPrefix, mqTestEnv } from "@solstice/test-support";
import { connect } from "amqplib";
import { sql } from "kysely";

// What both sides of the benchmark share: the fast guest, a git repository served to the guests,
// the image map the service reads; and the service's own broker names and database schema.

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, "..", "..");
export const AMQP_URL = process.env["AMQP_URL"] || "amqp://guest:guest@127.0.0.1:5672/%2f";
export const DATABASE_URL =
  process.env["DATABASE_URL"] || "postgres://solstice:solstice@127.0.0.1:5432/solstice";

interface GuestPaths {
  kernel: string;
  initrd: string;
  disk: string;
  format: "qcow2" | "raw";
  append: string;
  ssh_user: string;
}

/** The fast test guest as an image entry (built by scripts/build-test-guests.sh when missing). */
export async function fastGuestImage(): Promise<ImageEntry> {
  const { stdout } = await run(
    "bash",
    [join(ROOT, "scripts/build-test-guests.sh"), "fast", "--print-paths=json"],
    {
      maxBuffer: 1 << 24,
    },
  );
  const g = (JSON.parse(stdout) as { fast: GuestPaths }).fast;
  return {
    label: "solstice-fast-guest",
    source: `file://${g.disk}`,
    localPath: g.disk,
    decompress: "none",
    nocloud: true,
    defaults: { cpu: 1, ramMb: 512, diskGb: 1 },
    sha256: undefined,
    format: g.format,
    sshUser: g.ssh_user,
    kernel: g.kernel,
    initrd: g.initrd,
    append: g.append,
    accel: "auto",
  };
}

/** The same guest as an image map file for the service. */
export async function writeImageMap(path: string, image: ImageEntry): Promise<void> {
  const entry = {
    source: image.source,
    local_path: image.localPath,
    format: image.format,
    nocloud: true,
    ssh_user: image.sshUser,
    kernel: image.kernel,
    initrd: image.initrd,
    append: image.append,
    defaults: { cpu: 1, ram_mb: 512, disk_gb: 1 },
  };
  await writeFile(
    path,
    JSON.stringify({ default_label: image.label, images: { [image.label]: entry } }, null, 2),
  );
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/** One repository served by `git daemon`; guests clone it from git://10.0.2.2:PORT/repo. */
export async function gitRepo(dir: string): Promise<{ daemon: ChildProcess; url: string; sha: string }> {
  const repo = join(dir, "repo");
  await mkdir(repo, { recursive: true });
  await writeFile(join(repo, "README"), "orchestrator-throughput\n");
  const git = (...args: string[]) =>
    run("git", ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid", ...args], { cwd: repo });
  await git("init", "-q");
  await git("add", "README");
  await git("commit", "-q", "-m", "bench");
  const sha = (await git("rev-parse", "HEAD")).stdout.trim();
  const port = await freePort();
  const daemon = spawn(
    "git",
    ["daemon", "--export-all", `--base-path=${dir}`, "--listen=127.0.0.1", `--port=${port}`, "--reuseaddr"],
    { stdio: "ignore" },
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { daemon, url: `git://10.0.2.2:${port}/repo`, sha };
}

/** Queue settings with every name under a fresh prefix. */
export function benchMq(prefetch: number): MqConfig {
  return mqConfigFromEnv(mqTestEnv(mqPrefix("bench-orch"), { AMQP_URL, AMQP_PREFETCH: prefetch }));
}

/** Deletes what the service and the bench declared on the broker. */
export async function deleteMq(mq: MqConfig, owner: JobOwner, hostId: string): Promise<void> {
  const model = await connect(AMQP_URL);
  try {
    const channel = await model.createChannel();
    const queues = [
      mq.queue,
      mq.dlq,
      mq.eventsUnrouted,
      ownerEventsTopology(mq, owner).queue,
      cancelTopology(mq, hostId).queue,
    ];
    for (const q of queues) await channel.deleteQueue(q);
    for (const e of [mq.exchange, mq.dlx, mq.eventsExchange, mq.eventsUnrouted, mq.cancelExchange]) {
      await channel.deleteExchange(e);
    }
    await channel.close();
  } finally {
    await model.close();
  }
}

/** A private Postgres schema for the service; `url` sees only it. */
export async function postgresSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `bench_orch_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  const admin = createPostgresDb({ url: DATABASE_URL, applicationName: "solstice-bench" });
  await sql`create schema ${sql.id(schema)}`.execute(admin);
  const url = new URL(DATABASE_URL);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin);
      await admin.destroy();
    },
  };
}

/** What {@link startOrchestratorProcess} needs. */
export interface OrchestratorProcessOptions {
  readonly image: ImageEntry;
  readonly capacity: number;
  /** Its image map and state go here. */
  readonly dir: string;
  readonly mq: MqConfig;
  readonly databaseUrl: string;
  readonly hostId: string;
}

/**
 * `solstice-orchestrator run` as a child process, as deployed (fleet mode, young generation capped
 * at 16 MB), resolved once /readyz answers: start-up is not part of any timing.
 */
export async function startOrchestratorProcess(options: OrchestratorProcessOptions): Promise<ChildProcess> {
  const { image, capacity, dir, mq } = options;
  const imageMap = join(dir, "images.json");
  await writeImageMap(imageMap, image);
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env["PATH"] ?? "",
    HOME: process.env["HOME"] ?? "/tmp",
    LOG_LEVEL: "warn",
    ORCH_CONFIG: imageMap,
    MAX_CONCURRENCY: String(capacity),
    CAPACITY_MAP: `${image.label}=${capacity}`,
    DATABASE_URL: options.databaseUrl,
    ...mqConfigEnv(mq),
    HTTP_ADDR: `127.0.0.1:${port}`,
    HOST_ID: options.hostId,
    STATE_DIR: join(dir, "service-state"),
    // These benches compare against cold boots: no warm templates (bench/warm-start measures those).
    WARM_STARTS: "false",
  };
  const child = spawn(
    process.execPath,
    [
      "--max-semi-space-size=8",
      "--conditions=@solstice/source",
      join(ROOT, "packages/orchestrator/src/main.ts"),
      "run",
    ],
    { env, stdio: ["ignore", "ignore", "inherit"] },
  );
  for (let ready = false; !ready; ) {
    if (child.exitCode !== null)
      throw new Error(`the orchestrator exited (${child.exitCode}) during start-up`);
    ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return child;
}
