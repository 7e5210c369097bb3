import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { isValidEnvName, renderEnvExports, shQuote } from "../src/exec/shell-quote.ts";

// The quoting is checked against a real /bin/sh: what the shell reads back must be the value.
const sh = (script: string): string => execFileSync("/bin/sh", ["-c", script], { encoding: "utf8" });

const tricky = [
  "",
  "plain",
  "with space",
  "it's",
  "''",
  'double "quotes"',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion the quoting must neutralise
  "$HOME `id` $(id) ${x}",
  "back\\slash\\",
  "new\nline",
  "semi;colon && pipe | amp &",
  "glob * ? [a]",
  "tab\there",
  "ünïcødé ✓",
  "-n",
];

describe("shQuote", () => {
  it.each(tricky)("round-trips %j through /bin/sh", (value) => {
    expect(sh(`printf '%s' ${shQuote(value)}`)).toBe(value);
  });

  it("refuses a NUL character", () => {
    expect(() => shQuote("a\0b")).toThrow(TypeError);
  });
});

describe("renderEnvExports", () => {
  it("exports every variable with its exact value, later entries winning", () => {
    const env = Object.fromEntries(tricky.map((value, i) => [`V${i}`, value]));
    const lines = renderEnvExports(env);
    for (const [i, value] of tricky.entries()) {
      expect(sh(`${lines.join("\n")}\nsh -c 'printf "%s" "$V${i}"'`)).toBe(value);
    }
  });

  it("writes NAME='value'; export NAME", () => {
    expect(renderEnvExports({ GREETING: "hello world" })).toEqual([
      "GREETING='hello world'; export GREETING",
    ]);
  });

  it.each(["1ABC", "A-B", "A B", "", "A=B", "$(id)"])("refuses the name %j", (name) => {
    expect(isValidEnvName(name)).toBe(false);
    expect(() => renderEnvExports({ [name]: "x" })).toThrow(/invalid environment variable name/);
  });

  it.each(["A", "_", "a_b_1", "PATH"])("accepts the name %j", (name) => {
    expect(isValidEnvName(name)).toBe(true);
  });
});
