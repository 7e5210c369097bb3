import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { QmpClosedError, QmpCommandError, QmpConnectError } from "../src/errors.ts";
import { QmpClient } from "../src/qmp/qmp-client.ts";
import type { QmpEvent } from "../src/qmp/qmp-parser.ts";

// Against a real QEMU: `-machine none` needs no guest and no firmware, so it starts in a moment
// even under TCG. `-S` keeps a real machine paused for the status and event tests.

interface Qemu {
  readonly child: ChildProcess;
  readonly socket: string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startQemu(machineArgs: string[]): Promise<Qemu> {
  const dir = await mkdtemp(join(tmpdir(), "solstice-qmp-"));
  const socket = join(dir, "qmp.sock");
  const child = spawn(
    "qemu-system-x86_64",
    [...machineArgs, "-nodefaults", "-display", "none", "-qmp", `unix:${socket},server=on,wait=off`],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("exit", (code) => resolve(code));
    child.once("error", (error) =>
      reject(
        new Error(`cannot start qemu-system-x86_64 (install Debian's qemu-system-x86): ${error.message}`),
      ),
    );
  });
  exited.catch(() => {});
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited.catch(() => {});
    }
    await rm(dir, { recursive: true, force: true });
  });
  return { child, socket, stderr: () => stderr, exited };
}

async function connect(qemu: Qemu): Promise<QmpClient> {
  try {
    const client = await QmpClient.connect(qemu.socket, { timeoutMs: 30_000 });
    cleanups.push(() => client.close());
    return client;
  } catch (error) {
    throw new Error(`QMP connect failed; QEMU stderr: ${qemu.stderr()}`, { cause: error });
  }
}

describe("QmpClient against QEMU", () => {
  it("connects (greeting, capabilities) and queries the status", async () => {
    const qemu = await startQemu(["-machine", "none"]);
    const qmp = await connect(qemu);
    expect(qmp.greeting.version.major).toBeGreaterThanOrEqual(5);
    expect(await qmp.queryStatus()).toEqual({ status: "running", running: true });
    const version = await qmp.execute<{ qemu: { major: number } }>("query-version");
    expect(version.qemu.major).toBe(qmp.greeting.version.major);
  });

  it("reports a paused machine, and resumes it with cont (a RESUME event)", async () => {
    const qemu = await startQemu(["-machine", "pc", "-S", "-m", "64"]);
    const qmp = await connect(qemu);
    expect(await qmp.queryStatus()).toEqual({ status: "prelaunch", running: false });
    const resumed = qmp.waitForEvent("RESUME", 30_000);
    const seen: QmpEvent[] = [];
    qmp.on("event", (event) => seen.push(event));
    await qmp.execute("cont");
    expect((await resumed).event).toBe("RESUME");
    expect(seen.map((e) => e.event)).toContain("RESUME");
    expect((await qmp.queryStatus()).running).toBe(true);
    await qmp.execute("stop");
    expect(await qmp.queryStatus()).toEqual({ status: "paused", running: false });
  });

  it("maps QMP errors to QmpCommandError with class and description", async () => {
    const qemu = await startQemu(["-machine", "none"]);
    const qmp = await connect(qemu);
    const failure = await qmp.execute("no-such-command").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(QmpCommandError);
    expect(failure).toMatchObject({ command: "no-such-command", errorClass: "CommandNotFound" });
    expect((failure as QmpCommandError).desc).toContain("no-such-command");
    const badArgs = await qmp.execute("device_del", { id: "nothing-here" }).catch((error: unknown) => error);
    expect(badArgs).toBeInstanceOf(QmpCommandError);
    // The session stays usable after errors, and answers are matched to their commands.
    const [a, b] = await Promise.all([qmp.queryStatus(), qmp.execute<{ qemu: object }>("query-version")]);
    expect(a.running).toBe(true);
    expect(b.qemu).toBeTruthy();
  });

  it("quit: the SHUTDOWN event, then the connection closes and QEMU exits", async () => {
    const qemu = await startQemu(["-machine", "pc", "-S", "-m", "64"]);
    const qmp = await connect(qemu);
    const shutdown = qmp.waitForEvent("SHUTDOWN", 30_000);
    const closed = new Promise<void>((resolve) => qmp.once("close", () => resolve()));
    await qmp.quit();
    const event = await shutdown;
    expect(event.event).toBe("SHUTDOWN");
    expect(event.data?.["reason"]).toBe("host-qmp-quit");
    await closed;
    expect(qmp.closed).toBe(true);
    expect(await qemu.exited).toBe(0);
    await expect(qmp.execute("query-status")).rejects.toBeInstanceOf(QmpClosedError);
    await expect(qmp.waitForEvent("STOP", 1000)).rejects.toBeInstanceOf(QmpClosedError);
  });

  it("rejects pending commands and event waits when QEMU dies", async () => {
    const qemu = await startQemu(["-machine", "none"]);
    const qmp = await connect(qemu);
    const waiting = qmp.waitForEvent("NEVER", 60_000);
    qemu.child.kill("SIGKILL");
    await expect(waiting).rejects.toBeInstanceOf(QmpClosedError);
  });

  it("fails to connect with QmpConnectError when nothing listens", async () => {
    const dir = await mkdtemp(join(tmpdir(), "solstice-qmp-none-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const failure = await QmpClient.connect(join(dir, "absent.sock"), { timeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(QmpConnectError);
    expect((failure as QmpConnectError).socketPath).toBe(join(dir, "absent.sock"));
  });
});
