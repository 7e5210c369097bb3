import { execFile } from "node:child_process";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { type ImageEntry, type JobEvent, JobEventSchema } from "@solstice/common";
import { expect } from "vitest";

// Fixtures of the unit tests that run jobs on the `local` backend: a git repository on disk that
// the local guest checks out by a file:// URL, an image entry whose "disk" is any file, and the
// shape every job's events must have.

const run = promisify(execFile);

/**
 * A git repository in `dir` with one commit of `files` (a value starting with `+x ` is an
 * executable file); `url` is what a JobRequest's `repo_url` names.
 */
export async function createLocalRepo(
  dir: string,
  files: Record<string, string>,
): Promise<{ url: string; sha: string }> {
  await mkdir(dir, { recursive: true });
  const git = (...args: string[]) =>
    run("git", ["-c", "user.name=Solstice Test", "-c", "user.email=test@example.invalid", ...args], {
      cwd: dir,
    });
  await git("init", "-q");
  for (const [path, raw] of Object.entries(files)) {
    const executable = raw.startsWith("+x ");
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), executable ? raw.slice(3) : raw);
    if (executable) await chmod(join(dir, path), 0o755);
  }
  await git("add", "-A");
  await git("commit", "-q", "-m", "test commit");
  const sha = (await git("rev-parse", "HEAD")).stdout.trim();
  return { url: `file://${dir}`, sha };
}

/** An image entry for the local backend: its disk is `diskPath` (it only has to be readable). */
export function localImage(diskPath: string, label = "local"): ImageEntry {
  return {
    label,
    source: `file://${diskPath}`,
    localPath: diskPath,
    decompress: "none",
    nocloud: true,
    defaults: { cpu: 1, ramMb: 256, diskGb: 1 },
    sha256: undefined,
    format: "raw",
    sshUser: "runner",
    kernel: undefined,
    initrd: undefined,
    append: undefined,
    accel: "tcg",
  };
}

/** Every event is valid, `seq` runs 0..n-1 without a gap, and job_finished is last and once. */
export function expectWellFormed(events: readonly JobEvent[]): void {
  for (const event of events) JobEventSchema.parse(event);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  expect(events.at(-1)?.type).toBe("job_finished");
  expect(events.filter((e) => e.type === "job_finished")).toHaveLength(1);
}

/** Writes an empty file to stand for a base image. */
export async function writeFakeImage(path: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, "");
  return path;
}
