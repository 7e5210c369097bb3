import { posix } from "node:path";
import type { GuestLayout } from "./guest-layout.ts";
import { shQuote } from "./shell-quote.ts";

// Actions' file commands: a step writes `NAME=value` (or `NAME<<DELIM` … `DELIM`) lines to the
// files named by GITHUB_OUTPUT and GITHUB_ENV, and directories to GITHUB_PATH. The engine gives
// each step fresh files in the run directory, reads them back after it in one SSH round trip, and
// parses them with the Actions runner's rules (its SetEnvFileCommand / SetOutputFileCommand).

/** The files a step gets, by the variable that names them. */
export interface StepFileCommands {
  readonly GITHUB_OUTPUT: string;
  readonly GITHUB_ENV: string;
  readonly GITHUB_PATH: string;
  readonly GITHUB_STEP_SUMMARY: string;
  readonly GITHUB_STATE: string;
}

/** The files of step `index` in the run directory. */
export function stepFileCommands(layout: GuestLayout, index: number): StepFileCommands {
  const file = (suffix: string) => posix.join(layout.runDir, `step-${index}.${suffix}`);
  return {
    GITHUB_OUTPUT: file("output"),
    GITHUB_ENV: file("env"),
    GITHUB_PATH: file("path"),
    GITHUB_STEP_SUMMARY: file("summary"),
    GITHUB_STATE: file("state"),
  };
}

/** The files read back after a step. */
const READ_BACK = ["GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH"] as const;
type ReadBackName = (typeof READ_BACK)[number];

/**
 * A command printing every non-empty file among GITHUB_OUTPUT, GITHUB_ENV and GITHUB_PATH as a
 * header line `NAME BYTES` followed by exactly that many bytes.
 */
export function renderReadBackCommand(files: StepFileCommands): string {
  const script = READ_BACK.map(
    (name) =>
      `f=${shQuote(files[name])}; if [ -s "$f" ]; then printf '%s %s\\n' ${name} "$(($(wc -c <"$f")))"; cat "$f"; fi`,
  ).join("\n");
  return `sh -c ${shQuote(script)}`;
}

/** Splits the read-back output into each file's text. */
export function parseReadBack(stdout: string): Partial<Record<ReadBackName, string>> {
  const bytes = Buffer.from(stdout, "utf8");
  const out: Partial<Record<ReadBackName, string>> = {};
  let at = 0;
  while (at < bytes.length) {
    const newline = bytes.indexOf(0x0a, at);
    if (newline < 0) break;
    const header = /^(GITHUB_OUTPUT|GITHUB_ENV|GITHUB_PATH) (\d+)$/.exec(
      bytes.subarray(at, newline).toString("utf8"),
    );
    if (header === null) break;
    const length = Number(header[2]);
    out[header[1] as ReadBackName] = bytes.subarray(newline + 1, newline + 1 + length).toString("utf8");
    at = newline + 1 + length;
  }
  return out;
}

/** Values a key/value file command set, and what was wrong with it. */
export interface KeyValueFile {
  readonly values: Record<string, string>;
  readonly errors: string[];
}

/**
 * Parses a GITHUB_OUTPUT or GITHUB_ENV file: `NAME=value` lines, and `NAME<<DELIM` followed by
 * lines up to a line that is exactly `DELIM` (the value is those lines joined by `\n`). Empty
 * lines are skipped; later settings win.
 *
 * @example
 *   parseKeyValueFile("v=1.2\nnotes<<EOF\na\nb\nEOF\n", "GITHUB_OUTPUT").values; // { v: "1.2", notes: "a\nb" }
 */
export function parseKeyValueFile(text: string, file: string): KeyValueFile {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  if (lines.at(-1) === "") lines.pop();
  const values: Record<string, string> = {};
  const errors: string[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (line === "") continue;
    const equals = line.indexOf("=");
    const heredoc = line.indexOf("<<");
    if (equals >= 0 && (heredoc < 0 || equals < heredoc)) {
      const name = line.slice(0, equals);
      if (name === "") errors.push(`${file} line ${i + 1}: a name is required before "="`);
      else values[name] = line.slice(equals + 1);
      continue;
    }
    if (heredoc >= 0) {
      const name = line.slice(0, heredoc);
      const delimiter = line.slice(heredoc + 2);
      if (name === "" || delimiter === "") {
        errors.push(`${file} line ${i + 1}: "NAME<<DELIMITER" needs both a name and a delimiter`);
        continue;
      }
      const end = lines.indexOf(delimiter, i + 1);
      if (end < 0) {
        errors.push(`${file} line ${i + 1}: the delimiter "${delimiter}" of ${name} never comes`);
        break;
      }
      values[name] = lines.slice(i + 1, end).join("\n");
      i = end;
      continue;
    }
    errors.push(`${file} line ${i + 1}: expected NAME=value or NAME<<DELIMITER, got ${JSON.stringify(line)}`);
  }
  return { values, errors };
}

/** GITHUB_PATH: one directory per non-empty line. */
export function parsePathFile(text: string): string[] {
  return text
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}
