import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GitHubTestServer } from "@solstice/github-test-server";
import { type CliResult, runCli, tempDir } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// `register` and `remove` as an operator runs them, against the GitHub protocol test server on a
// GHES-style URL (a port, the API under /api/v3): the v2 registration, the reference runner's
// files (0600), the labels GitHub sees, --replace, and removal with a remove token.

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "main.ts");
const cli = (args: string[]): Promise<CliResult> => runCli("solstice-github-runner", MAIN, args);
const REPO = "acme/widget";

let server: GitHubTestServer;
let dir: { path: string; remove(): Promise<void> };

beforeAll(async () => {
  server = await GitHubTestServer.start({ messageHoldMs: 500 });
  server.addRepository(REPO);
  dir = await tempDir("github-register");
});

afterAll(async () => {
  await server?.close();
  await dir?.remove();
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe("solstice-github-runner register / remove", { timeout: 60_000 }, () => {
  it("registers by token: the runner on GitHub with its labels, its files 0600; refuses a second without --replace", async () => {
    const stateDir = join(dir.path, "state");
    const args = [
      "register",
      "--url",
      server.gitHubUrl(REPO),
      "--name",
      "solstice-1",
      "--labels",
      "omnios-bloody",
    ];
    const first = await cli([
      ...args,
      "--token",
      server.createRegistrationToken(REPO),
      "--state-dir",
      stateDir,
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('registered runner "solstice-1"');
    for (const file of [".runner", ".credentials", ".credentials_rsaparams"]) {
      expect(await mode(join(stateDir, file))).toBe(0o600);
    }
    const runner = server.runners().find((r) => r.name === "solstice-1");
    expect(runner?.labels.map((l) => l.name)).toEqual(
      expect.arrayContaining(["self-hosted", "Linux", "X64", "omnios-bloody"]),
    );
    // Registration went through the GHES-style API (port kept, /api/v3).
    expect(server.calls.some((c) => c.endpoint === "register-runner" && c.path.startsWith("/api/v3/"))).toBe(
      true,
    );

    const again = await cli([
      ...args,
      "--token",
      server.createRegistrationToken(REPO),
      "--state-dir",
      stateDir,
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already holds a registered runner");
    const replaced = await cli([
      ...args,
      "--token",
      server.createRegistrationToken(REPO),
      "--state-dir",
      stateDir,
      "--replace",
    ]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(server.runners().filter((r) => r.name === "solstice-1" && r.deletedAt === undefined)).toHaveLength(
      1,
    );

    const removed = await cli(["remove", "--token", server.createRemoveToken(REPO), "--state-dir", stateDir]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(server.runners().filter((r) => r.name === "solstice-1" && r.deletedAt === undefined)).toEqual([]);
    await expect(stat(join(stateDir, ".runner"))).rejects.toThrow(/ENOENT/);
    await expect(stat(join(stateDir, ".credentials_rsaparams"))).rejects.toThrow(/ENOENT/);
  });

  it("a registration token GitHub does not know: one clear error, exit 2, no files", async () => {
    const stateDir = join(dir.path, "bad");
    const result = await cli([
      "register",
      "--url",
      server.gitHubUrl(REPO),
      "--token",
      "not-a-token",
      "--labels",
      "omnios-bloody",
      "--state-dir",
      stateDir,
    ]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/runner-registration.*HTTP (401|403|404)/);
    expect(result.stderr).toContain("hint: the registration token is wrong or expired");
    expect(result.stderr).not.toContain("not-a-token");
    await expect(stat(join(stateDir, ".runner"))).rejects.toThrow(/ENOENT/);
  });
});
