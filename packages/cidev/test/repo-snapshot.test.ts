import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, test } from "vitest";
import { repositoryFacts } from "../src/git/repository-facts.ts";
import { prepareRepoSnapshot } from "../src/run/repo-snapshot.ts";

// What `cidev run` serves to the guest, with real git: HEAD for a clean work tree, a snapshot
// commit of the work tree otherwise, and nothing written into the user's repository.

const run = promisify(execFile);
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function repo(): Promise<{ dir: string; git: (...args: string[]) => Promise<string> }> {
  const dir = await mkdtemp(join(tmpdir(), "cidev-snap-"));
  dirs.push(dir);
  const git = async (...args: string[]) =>
    (
      await run("git", ["-c", "user.name=T", "-c", "user.email=t@example.invalid", ...args], { cwd: dir })
    ).stdout.trim();
  await git("init", "-q", "-b", "main");
  await writeFile(join(dir, "a.txt"), "one\n");
  await writeFile(join(dir, ".gitignore"), "ignored.log\n");
  await git("add", "-A");
  await git("commit", "-qm", "first");
  return { dir, git };
}

async function served(baseDir: string, ...args: string[]): Promise<string> {
  return (await run("git", ["--git-dir", join(baseDir, "repo.git"), ...args])).stdout.trim();
}

describe("the repository cidev run serves", () => {
  test("a clean work tree: HEAD itself", async () => {
    const { dir, git } = await repo();
    const base = await mkdtemp(join(tmpdir(), "cidev-serve-"));
    dirs.push(base);
    const facts = (await repositoryFacts(dir))!;
    expect(facts).toMatchObject({
      root: expect.any(String),
      branch: "main",
      head: await git("rev-parse", "HEAD"),
    });
    const snap = await prepareRepoSnapshot(facts, base);
    expect(snap).toMatchObject({ commit: facts.head, snapshot: false, describe: "HEAD" });
    expect(await served(base, "rev-parse", "refs/heads/cidev")).toBe(facts.head);
  });

  test("uncommitted changes: a snapshot commit on top of HEAD, the user's repository untouched", async () => {
    const { dir, git } = await repo();
    await writeFile(join(dir, "a.txt"), "two\n");
    await writeFile(join(dir, "new.txt"), "untracked\n");
    await writeFile(join(dir, "ignored.log"), "ignored\n");
    const before = {
      refs: await git("for-each-ref"),
      status: await git("status", "--porcelain"),
      objects: await git("count-objects"),
    };
    const base = await mkdtemp(join(tmpdir(), "cidev-serve-"));
    dirs.push(base);
    const facts = (await repositoryFacts(dir))!;
    const snap = await prepareRepoSnapshot(facts, base);
    expect(snap.snapshot).toBe(true);
    expect(snap.commit).not.toBe(facts.head);
    expect(await served(base, "rev-parse", `${snap.commit}^`)).toBe(facts.head);
    expect(await served(base, "show", `${snap.commit}:a.txt`)).toBe("two");
    expect(await served(base, "show", `${snap.commit}:new.txt`)).toBe("untracked");
    expect((await served(base, "ls-tree", "--name-only", snap.commit)).split("\n")).not.toContain(
      "ignored.log",
    );
    expect({
      refs: await git("for-each-ref"),
      status: await git("status", "--porcelain"),
      objects: await git("count-objects"),
    }).toEqual(before);
  });

  test("--sha: that commit; an unknown one is an error naming it", async () => {
    const { dir, git } = await repo();
    const first = await git("rev-parse", "HEAD");
    await writeFile(join(dir, "b.txt"), "b\n");
    await git("add", "-A");
    await git("commit", "-qm", "second");
    const base = await mkdtemp(join(tmpdir(), "cidev-serve-"));
    dirs.push(base);
    const facts = (await repositoryFacts(dir))!;
    expect((await prepareRepoSnapshot(facts, base, { sha: first.slice(0, 10) })).commit).toBe(first);
    const other = await mkdtemp(join(tmpdir(), "cidev-serve-"));
    dirs.push(other);
    await expect(prepareRepoSnapshot(facts, other, { sha: "deadbeef" })).rejects.toMatchObject({
      code: "CIDEV_GIT",
      message: expect.stringContaining("no commit deadbeef"),
    });
  });

  test("outside any repository: no facts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cidev-norepo-"));
    dirs.push(dir);
    expect(await repositoryFacts(dir)).toBeUndefined();
  });
});
