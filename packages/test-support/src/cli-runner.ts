import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// Runs a CLI as users do: a child process from source (`node --conditions=@solstice/source
// src/main.ts`), with its exit code, stdout and stderr.

/** The repository's top directory. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** What a run printed and how it ended. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** How to run a CLI: where, with which extra environment, and how long it may take (default 60 s). */
export interface CliRunOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Runs `node <main> args…` (the CLI `name`) in `cwd` (default: the repository) and waits for it to exit. */
export function runCli(
  name: string,
  main: string,
  args: readonly string[],
  options: CliRunOptions = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // Plain output: no colours whatever the test runner's terminal.
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", ...options.env };
    delete env["FORCE_COLOR"];
    const child = spawn(process.execPath, ["--conditions=@solstice/source", main, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} ${args.join(" ")} did not exit in time:\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A temporary directory (outside any git repository) with `files`; `remove()` deletes it. */
export async function tempFiles(
  files: Record<string, string>,
  prefix = "solstice-test-",
): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(path, name)), { recursive: true });
    await writeFile(join(path, name), text);
  }
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
