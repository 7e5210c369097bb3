import { mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalGuestShell } from "../src/local/local-guest-shell.ts";

// The local backend's GuestShell keeps SshSession's contract: exec streams and resolves with the
// exit code or signal, an abort resolves without a status, uploads set the mode, a closed shell
// runs nothing. And it stays in its directory.

let dir: string;
let home: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "solstice-local-shell-"));
  home = join(dir, "home");
  await mkdir(home);
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("LocalGuestShell", () => {
  it("runs commands from its home with HOME set, and reports exit codes and signals", async () => {
    const shell = new LocalGuestShell(home);
    expect(await shell.run('pwd; echo "$HOME"; echo err >&2; exit 3')).toEqual({
      exitCode: 3,
      signal: null,
      stdout: `${home}\n${home}\n`,
      stderr: "err\n",
    });
    expect(await shell.run("kill -TERM $$")).toMatchObject({ exitCode: null, signal: "TERM" });
    expect((await shell.run("cat", { stdin: "fed through stdin" })).stdout).toBe("fed through stdin");
    await shell.close();
  });

  it("streams output as it comes", async () => {
    const shell = new LocalGuestShell(home);
    const chunks: string[] = [];
    const result = await shell.exec("echo one; sleep 0.2; echo two >&2", {
      onStdout: (chunk) => chunks.push(`out:${chunk.toString()}`),
      onStderr: (chunk) => chunks.push(`err:${chunk.toString()}`),
    });
    expect(result).toEqual({ exitCode: 0, signal: null });
    expect(chunks).toEqual(["out:one\n", "err:two\n"]);
    await shell.close();
  });

  it("an abort kills the command's process group and resolves without a status", async () => {
    const shell = new LocalGuestShell(home);
    const controller = new AbortController();
    const started = Date.now();
    const running = shell.exec(`sleep 30 & echo $! > ${join(home, "child.pid")}; wait`, {
      signal: controller.signal,
      onStdout: () => undefined,
    });
    setTimeout(() => controller.abort(), 200);
    expect(await running).toEqual({ exitCode: null, signal: null });
    expect(Date.now() - started).toBeLessThan(5_000);
    const pid = Number((await readFile(join(home, "child.pid"), "utf8")).trim());
    await expect.poll(() => isAlive(pid), { timeout: 3_000 }).toBe(false);
    await shell.close();
  });

  it("closing ends what still runs, and a closed shell runs nothing", async () => {
    const shell = new LocalGuestShell(home);
    const running = shell.exec("sleep 30");
    await shell.close();
    expect(shell.closed).toBe(true);
    expect(await running).toEqual({ exitCode: null, signal: null });
    await expect(shell.run("true")).rejects.toThrow(/closed/);
  });

  it("uploads files with their mode, only inside its home", async () => {
    const shell = new LocalGuestShell(home);
    const path = join(home, "step.sh");
    await shell.upload(path, "echo hi\n", 0o755);
    expect((await stat(path)).mode & 0o777).toBe(0o755);
    expect(await shell.run(path)).toMatchObject({ exitCode: 0, stdout: "hi\n" });
    await shell.upload(path, new Uint8Array([0x61]), 0o600);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await expect(shell.upload(join(dir, "outside.sh"), "x", 0o644)).rejects.toThrow(/outside/);
    await expect(shell.upload(join(home, "..", "home2", "x"), "x", 0o644)).rejects.toThrow(/outside/);
    await expect(shell.upload("relative.sh", "x", 0o644)).rejects.toThrow(/outside/);
    await shell.close();
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
