import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHECKOUT_DONE_MARKER,
  renderWorkspaceScript,
  WORKSPACE_MARKER,
} from "../src/exec/workspace-script.ts";

// The workspace script run by the host's /bin/sh and git against a local repository (file://),
// as the guest runs it against the test's git daemon, with HOME pointing at a temporary directory.

const run = promisify(execFile);
const git = (cwd: string, ...args: string[]) =>
  run("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], { cwd });

let dir: string;
let repo: string;
let first: string;
let second: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "solstice-checkout-"));
  repo = join(dir, "repo");
  await run("git", ["init", "-q", repo]);
  await writeFile(join(repo, "file.txt"), "one\n");
  await git(repo, "add", "file.txt");
  await git(repo, "commit", "-q", "-m", "one");
  first = (await git(repo, "rev-parse", "HEAD")).stdout.trim();
  await writeFile(join(repo, "file.txt"), "two\n");
  await git(repo, "commit", "-q", "-am", "two");
  second = (await git(repo, "rev-parse", "HEAD")).stdout.trim();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function prepare(home: string, sha: string, depth?: number) {
  await mkdir(home, { recursive: true });
  const script = renderWorkspaceScript({
    repoUrl: `file://${repo}`,
    commitSha: sha,
    ...(depth === undefined ? {} : { depth }),
  });
  try {
    const { stdout, stderr } = await run("/bin/sh", ["-c", script], { env: { ...process.env, HOME: home } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("renderWorkspaceScript", () => {
  it("makes the run directory, names the workspace, and checks out exactly an older commit", async () => {
    const home = join(dir, "home1");
    const result = await prepare(home, first);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines[0]).toBe(`${WORKSPACE_MARKER}${home}/work`);
    expect(lines.at(-1)).toBe(`${CHECKOUT_DONE_MARKER}${first}`);
    expect((await git(join(home, "work"), "rev-parse", "HEAD")).stdout.trim()).toBe(first);
    expect(await readFile(join(home, "work", "file.txt"), "utf8")).toBe("one\n");
    expect((await stat(join(home, ".solstice-run"))).mode & 0o777).toBe(0o700);
    expect((await stat(join(home, ".solstice-run", "tmp"))).isDirectory()).toBe(true);
  });

  it("reuses an existing workspace for another commit, with the full history when depth is 0", async () => {
    const home = join(dir, "home2");
    expect((await prepare(home, first)).code).toBe(0);
    const again = await prepare(home, second.toUpperCase(), 0);
    expect(again.code).toBe(0);
    expect((await git(join(home, "work"), "rev-parse", "HEAD")).stdout.trim()).toBe(second);
    expect((await git(join(home, "work"), "rev-list", "--count", "HEAD")).stdout.trim()).toBe("2");
  });

  it("fails when the commit does not exist", async () => {
    const result = await prepare(join(dir, "home3"), "0123456789abcdef0123456789abcdef01234567");
    expect(result.code).not.toBe(0);
    expect(result.stdout).not.toContain(CHECKOUT_DONE_MARKER);
  });

  it("never prints the repository URL (it may carry a token)", () => {
    const script = renderWorkspaceScript({
      repoUrl: "https://x:secret@h/r.git",
      commitSha: first,
    });
    expect(script.match(/secret/g)).toHaveLength(1);
    expect(script).toContain("url='https://x:secret@h/r.git'");
    expect(script).not.toMatch(/echo[^\n]*\$url/);
  });

  it("with checkout false makes an empty workspace and never touches the repository", async () => {
    const home = join(dir, "home-empty");
    await mkdir(home, { recursive: true });
    const script = renderWorkspaceScript({
      repoUrl: "https://x:secret@h/r.git",
      commitSha: first,
      checkout: false,
    });
    expect(script).not.toContain("secret");
    expect(script).not.toContain("git");
    const { stdout } = await run("/bin/sh", ["-c", script], { env: { ...process.env, HOME: home } });
    expect(stdout.split("\n")[0]).toBe(`${WORKSPACE_MARKER}${home}/work`);
    expect(await readdir(join(home, "work"))).toEqual([]);
    expect(await readdir(join(home, ".solstice-run"))).toEqual(["tmp"]);
    expect(stdout).not.toContain(CHECKOUT_DONE_MARKER);
  });

  it.each(["main", "HEAD~1", "abc", "; rm -rf /", ""])("refuses the commit id %j", (sha) => {
    expect(() => renderWorkspaceScript({ repoUrl: "u", commitSha: sha })).toThrow(TypeError);
  });
});
