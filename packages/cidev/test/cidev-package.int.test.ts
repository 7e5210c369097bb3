import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type InstalledCli, packAndInstallCli } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

// cidev as a user without a checkout installs it: scripts/pack-cli.mjs → one tarball →
// `npm i -g --prefix <tmp>` → `<prefix>/bin/cidev`, run with a bare environment in a directory
// outside the checkout. (Integration project: it needs no broker, but builds, packs and installs
// ~6,000 files, which is too slow for the unit project.)

const VALID = `workflow name="Packed" {
  job id="build" runs_on="fast" {
    step name="Hello" run="echo hello"
  }
}
`;
const UNSERVED = `workflow name="Nowhere" {
  job id="build" runs_on="nowhere" {
    step run="true"
  }
}
`;

let cli: InstalledCli;
beforeAll(async () => {
  cli = await packAndInstallCli("cidev");
}, 600_000);
afterAll(() => cli?.remove());

describe("cidev installed from its packed tarball", { timeout: 120_000 }, () => {
  test("the installed bin runs --help", async () => {
    expect(cli.tarball).toMatch(/solstice-cidev-0\.1\.0\.tgz$/);
    const help = await cli.run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: cidev");
  });

  test("validate runs without a checkout and checks labels against the map the package ships", async () => {
    await writeFile(join(cli.prefix, "..", "ok.kdl"), VALID);
    await writeFile(join(cli.prefix, "..", "nowhere.kdl"), UNSERVED);
    const ok = await cli.run(["validate", "ok.kdl"]);
    expect(ok).toMatchObject({
      code: 0,
      stdout: "OK: ok.kdl: KDL workflow 'Packed' with 1 job\n",
      stderr: "",
    });

    const warned = await cli.run(["validate", "nowhere.kdl"]);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain('warning: runs-on "nowhere" is not served by the image map');
    expect(warned.stderr).toContain(
      join(cli.prefix, "lib", "node_modules", "@solstice", "cidev", "examples"),
    );
    expect(warned.stderr).toMatch(/it serves: .*solstice-fast-guest/);

    const strict = await cli.run(["validate", "--strict", "nowhere.kdl"]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/^nowhere\.kdl:2:\d+: runs-on "nowhere" is not served/);
  });
});
