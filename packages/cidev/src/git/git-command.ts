import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A git command's output. */
export interface GitOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `git args…` in `cwd` (with `env` added), resolving to its output; rejects with git's
 * stderr in the message when it exits non-zero.
 */
export async function git(
  cwd: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<GitOutput> {
  try {
    const { stdout, stderr } = await run("git", [...args], {
      cwd,
      env: { ...process.env, ...env, GIT_TERMINAL_PROMPT: "0" },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { stdout, stderr };
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    const why =
      stderr !== undefined && stderr !== "" ? stderr : error instanceof Error ? error.message : String(error);
    throw new Error(`git ${args.join(" ")}: ${why}`, { cause: error });
  }
}
