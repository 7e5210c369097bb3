import { describe, expect, test } from "vitest";
import { consoleMilestone } from "../src/vm/console-milestones.ts";

// Which console lines become events of the boot span (docs/telemetry.md).

describe("consoleMilestone", () => {
  test.each([
    ["solstice-guest: network up: eth0 10.0.2.15/24 (dhcp) [1.92s]", "network up: eth0 10.0.2.15/24 (dhcp)"],
    ["solstice-guest: ssh ready [4.10s]", "ssh ready"],
    ["  solstice-guest: seed mounted from /dev/sr0 [2.3s]\r", "seed mounted from /dev/sr0"],
    [
      "[    0.000000] Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org)",
      "Linux version 6.1.0-27-amd64",
    ],
    ["[    1.234567] Run /init as init process", "Run /init"],
    [
      "Cloud-init v. 22.4.2 finished at Fri, 04 Dec 2026 20:00:00 +0000. Datasource DataSourceNoCloud.",
      "Cloud-init v. 22.4.2 finished",
    ],
  ])("%j marks %j", (line, milestone) => {
    expect(consoleMilestone(line)).toBe(milestone);
  });

  test.each([
    "random kernel chatter",
    "",
    "[    2.0] e1000: eth0 NIC Link is Up",
    "echo solstice-guest: in a script",
  ])("%j marks nothing", (line) => {
    expect(consoleMilestone(line)).toBeUndefined();
  });

  test("a milestone is bounded", () => {
    expect(consoleMilestone(`solstice-guest: ${"x".repeat(5000)} [1.0s]`)).toHaveLength(120);
  });
});
