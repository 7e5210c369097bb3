import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// Runs ciadm as users do: a child process from source (`node --conditions=@solstice/source
// src/main.ts`), with its exit code, stdout and stderr.

/** The CLI's entry point. */
export const CIADM_MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "main.ts");
/** The repository's top directory. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** What a run printed and how it ended. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `ciadm args…` in `cwd` and waits for it to exit. */
export function runCiadm(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // Plain output: no colours whatever the test runner's terminal.
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", ...options.env };
    delete env["FORCE_COLOR"];
    const child = spawn(process.execPath, ["--conditions=@solstice/source", CIADM_MAIN, ...args], {
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
      reject(new Error(`ciadm ${args.join(" ")} did not exit in time:\n${stdout}\n${stderr}`));
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
): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "ciadm-test-"));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(path, name)), { recursive: true });
    await writeFile(join(path, name), text);
  }
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
