import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";

// What the forge runners' end-to-end rigs share: a log sink that keeps every JSON line a service
// wrote (to check what operators would read, and that no secret is in it), and a git repository
// with one commit for a test forge to serve.

const run = promisify(execFile);

/** A captured log: every JSON line written to {@link CapturedLog.stream}. */
export class CapturedLog {
  readonly lines: Record<string, unknown>[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      for (const line of chunk.toString().split("\n")) {
        if (line.trim() !== "") this.lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });

  /** Every line as its JSON text (to look for leaked values). */
  raw(): string {
    return this.lines.map((l) => JSON.stringify(l)).join("\n");
  }

  /** Every message (`msg`) and error message, one string per line. */
  text(): string {
    return this.lines
      .map(
        (l) =>
          `${String(l["msg"])} ${JSON.stringify((l["err"] as { message?: string } | undefined)?.message ?? "")}`,
      )
      .join("\n");
  }
}

/** A git repository at `<dir>/repo` with one commit of `files`; returns its path and the commit. */
export async function makeRepository(
  dir: string,
  files: Record<string, string>,
): Promise<{ path: string; sha: string }> {
  const path = join(dir, "repo");
  await run("git", ["init", "-q", "-b", "main", path]);
  for (const [name, content] of Object.entries(files)) await writeFile(join(path, name), content);
  const git = (...args: string[]) =>
    run("git", ["-C", path, "-c", "user.name=t", "-c", "user.email=t@example.org", ...args]);
  await git("add", "-A");
  await git("commit", "-q", "-m", "initial");
  const sha = (await git("rev-parse", "HEAD")).stdout.trim();
  return { path, sha };
}
