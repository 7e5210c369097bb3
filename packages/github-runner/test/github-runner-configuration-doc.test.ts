import { silentContext } from "@solstice/cli-kit";
import { configurationDocGaps, programFlags } from "@solstice/test-support";
import { describe, expect, test } from "vitest";
import { buildProgram } from "../src/cli/program.ts";

// docs/configuration.md lists exactly solstice-github-runner's flags and their environment variables.

const program = buildProgram(silentContext());

describe("docs/configuration.md: solstice-github-runner", () => {
  test("every flag of every command, with its environment variable, and no other", () => {
    expect(programFlags(program).length).toBeGreaterThan(3);
    expect(configurationDocGaps(program)).toEqual({ missing: [], unknown: [] });
  });
});
