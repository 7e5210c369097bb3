import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { RefNotFoundError } from "../errors.ts";

const run = promisify(execFile);

/**
 * The commit `ref` (a branch, a tag, `HEAD`, or a full ref such as `refs/pull/3/head`) points to
 * in the repository at `url`, by `git ls-remote`. An annotated tag gives the commit it tags.
 * @throws RefNotFoundError when the repository cannot be read or has no such ref
 */
export async function resolveRef(url: string, ref: string): Promise<string> {
  let stdout: string;
  try {
    ({ stdout } = await run("git", ["ls-remote", "--", url, ref], {
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
      timeout: 60_000,
    }));
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new RefNotFoundError(url, ref, new Error(stderr || (error as Error).message));
  }
  const refs = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const m = /^([0-9a-f]{40,64})\t(\S+)$/.exec(line);
    if (m !== null) refs.set(m[2]!, m[1]!);
  }
  const sha =
    refs.get(`refs/tags/${ref}^{}`) ??
    refs.get(`${ref}^{}`) ??
    refs.get(ref) ??
    refs.get(`refs/heads/${ref}`) ??
    refs.get(`refs/tags/${ref}`);
  if (sha === undefined) throw new RefNotFoundError(url, ref);
  return sha;
}
