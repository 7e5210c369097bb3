import { createServer } from "node:net";
import { type InstalledCli, packAndInstallCli } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

// ciadm as a user without a checkout installs it: scripts/pack-cli.mjs → one tarball →
// `npm i -g --prefix <tmp>` → `<prefix>/bin/ciadm`, run with a bare environment outside the
// checkout. (Integration project: slow to build, pack and install, though it needs no broker.)

let cli: InstalledCli;
beforeAll(async () => {
  cli = await packAndInstallCli("ciadm");
}, 600_000);
afterAll(() => cli?.remove());

/** A loopback port nothing listens on (taken, then freed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("ciadm installed from its packed tarball", { timeout: 120_000 }, () => {
  test("each command's --help lists its own flags only", async () => {
    const help = await cli.run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: ciadm");
    const purge = await cli.run(["dlq", "purge", "--help"]);
    expect(purge.code).toBe(0);
    const flags = [...purge.stdout.matchAll(/^\s+(-\w, )?(--[a-z-]+)/gm)].map((m) => m[2]);
    expect(flags).toEqual(["--yes", "--amqp-url", "--help"]);
  });

  test("images list finds the map the package ships from any directory; an unreachable API names its cause", async () => {
    const port = await closedPort();
    const r = await cli.run(["images", "list", "--orch-url", `http://127.0.0.1:${port}`], { cwd: "/" });
    expect(r.stdout).toMatch(/^LABEL\s+ALIASES/);
    expect(r.stdout).toContain("solstice-fast-guest");
    expect(r.stderr).toContain(
      `cannot reach the orchestrator at http://127.0.0.1:${port}: connect ECONNREFUSED`,
    );
  });
});
