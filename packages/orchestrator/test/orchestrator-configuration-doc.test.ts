import { configurationDocGaps, programFlags } from "@solstice/test-support";
import { Command } from "commander";
import { describe, expect, test } from "vitest";
import { addServiceOptions } from "../src/config/service-config.ts";

// docs/configuration.md lists exactly solstice-orchestrator's flags and their environment
// variables. The flags are the program's (src/main.ts adds them with addServiceOptions to the
// top-level command; `run` and `migrate` have none of their own).

const program = addServiceOptions(new Command("solstice-orchestrator"));
program.command("run");
program.command("migrate");

describe("docs/configuration.md: solstice-orchestrator", () => {
  test("every flag, with its environment variable, and no other", () => {
    expect(programFlags(program).length).toBeGreaterThan(20);
    expect(configurationDocGaps(program)).toEqual({ missing: [], unknown: [] });
  });

  test("a flag missing from the doc is reported", () => {
    const extra = addServiceOptions(new Command("solstice-orchestrator")).option("--not-documented");
    expect(configurationDocGaps(extra).missing).toEqual(["solstice-orchestrator --not-documented -"]);
  });
});
