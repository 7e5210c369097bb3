import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHECKOUT_DONE_MARKER, renderCheckoutScript } from "../src/exec/workspace-script.ts";

// The checkout script run by the host's /bin/sh and git against a local repository (file://),
// as the guest runs it against the test's git daemon.

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

async function checkout(workspace: string, sha: string, depth?: number) {
  const script = renderCheckoutScript({
    workspace,
    repoUrl: `file://${repo}`,
    commitSha: sha,
    ...(depth === undefined ? {} : { depth }),
  });
  try {
    const { stdout, stderr } = await run("/bin/sh", ["-c", script]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("renderCheckoutScript", () => {
  it("checks out exactly an older commit (not the branch tip) and says so", async () => {
    const workspace = join(dir, "ws1");
    const result = await checkout(workspace, first);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${CHECKOUT_DONE_MARKER}${first}`);
    expect((await git(workspace, "rev-parse", "HEAD")).stdout.trim()).toBe(first);
    expect((await run("cat", [join(workspace, "file.txt")])).stdout).toBe("one\n");
  });

  it("reuses an existing workspace for another commit, with the full history when depth is 0", async () => {
    const workspace = join(dir, "ws2");
    expect((await checkout(workspace, first)).code).toBe(0);
    const again = await checkout(workspace, second.toUpperCase(), 0);
    expect(again.code).toBe(0);
    expect((await git(workspace, "rev-parse", "HEAD")).stdout.trim()).toBe(second);
    expect((await git(workspace, "rev-list", "--count", "HEAD")).stdout.trim()).toBe("2");
  });

  it("fails when the commit does not exist", async () => {
    const result = await checkout(join(dir, "ws3"), "0123456789abcdef0123456789abcdef01234567");
    expect(result.code).not.toBe(0);
    expect(result.stdout).not.toContain(CHECKOUT_DONE_MARKER);
  });

  it("never prints the repository URL (it may carry a token)", () => {
    const script = renderCheckoutScript({
      workspace: "/w",
      repoUrl: "https://x:secret@h/r.git",
      commitSha: first,
    });
    expect(script.match(/secret/g)).toHaveLength(1);
    expect(script).toContain("url='https://x:secret@h/r.git'");
    expect(script).not.toMatch(/echo[^\n]*\$url/);
  });

  it.each(["main", "HEAD~1", "abc", "; rm -rf /", ""])("refuses the commit id %j", (sha) => {
    expect(() => renderCheckoutScript({ workspace: "/w", repoUrl: "u", commitSha: sha })).toThrow(TypeError);
  });
});
