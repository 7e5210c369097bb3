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
const READ_BACK = ["GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY"] as const;
type ReadBackName = (typeof READ_BACK)[number];

/** The most a step summary may hold, as GitHub (1 MiB); a larger one is not read back. */
export const STEP_SUMMARY_LIMIT_BYTES = 1024 * 1024;

/**
 * A command printing every non-empty file among GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH and
 * GITHUB_STEP_SUMMARY as a header line `NAME BYTES` followed by exactly that many bytes; a
 * summary over {@link STEP_SUMMARY_LIMIT_BYTES} only as `GITHUB_STEP_SUMMARY_TOO_LARGE BYTES`.
 */
export function renderReadBackCommand(files: StepFileCommands): string {
  const script = READ_BACK.map((name) => {
    const print = `printf '%s %s\\n' ${name} "$n"; cat "$f"`;
    const body =
      name === "GITHUB_STEP_SUMMARY"
        ? `if [ "$n" -gt ${STEP_SUMMARY_LIMIT_BYTES} ]; then printf '%s %s\\n' ${name}_TOO_LARGE "$n"; else ${print}; fi`
        : print;
    return `f=${shQuote(files[name])}; if [ -s "$f" ]; then n=$(($(wc -c <"$f"))); ${body}; fi`;
  }).join("\n");
  return `sh -c ${shQuote(script)}`;
}

/** Each file's text, and the size of a summary too large to read back. */
export type ReadBack = Partial<Record<ReadBackName, string>> & { summaryTooLargeBytes?: number };

/** Splits the read-back output into each file's text. */
export function parseReadBack(stdout: string): ReadBack {
  const bytes = Buffer.from(stdout, "utf8");
  const out: ReadBack = {};
  let at = 0;
  while (at < bytes.length) {
    const newline = bytes.indexOf(0x0a, at);
    if (newline < 0) break;
    const headerText = bytes.subarray(at, newline).toString("utf8");
    const tooLarge = /^GITHUB_STEP_SUMMARY_TOO_LARGE (\d+)$/.exec(headerText);
    if (tooLarge !== null) {
      out.summaryTooLargeBytes = Number(tooLarge[1]);
      at = newline + 1;
      continue;
    }
    const header = /^(GITHUB_OUTPUT|GITHUB_ENV|GITHUB_PATH|GITHUB_STEP_SUMMARY) (\d+)$/.exec(headerText);
    if (header === null) break;
    const length = Number(header[2]);
    out[header[1] as ReadBackName] = bytes.subarray(newline + 1, newline + 1 + length).toString("utf8");
    at = newline + 1 + length;
  }
  return out;
}

/** Values a key/value file command set, and why the rest of it was not read. */
export interface KeyValueFile {
  readonly values: Record<string, string>;
  /** The first malformed entry (file and line); nothing after it is read. The step then fails. */
  readonly error?: string;
}

/**
 * Parses a GITHUB_OUTPUT or GITHUB_ENV file with the Actions runner's rules: `NAME=value` lines
 * (the first `=` splits), and `NAME<<DELIM` (when `<<` comes before any `=`) followed by lines up
 * to the first line that is exactly `DELIM`; the value is the lines between, joined by `\n`.
 * Empty lines are skipped and later settings win. As in the runner, the first malformed entry
 * stops the parse: the values before it stay set and the error fails the step. A CR before a LF
 * ends the line too (as the Forgejo runner reads it), so files written with CRLF work.
 *
 * @example
 *   parseKeyValueFile("v=1.2\nnotes<<EOF\na\nb\nEOF\n", "GITHUB_OUTPUT").values; // { v: "1.2", notes: "a\nb" }
 */
export function parseKeyValueFile(text: string, file: string): KeyValueFile {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  const values: Record<string, string> = {};
  const failed = (line: number, message: string): KeyValueFile => ({
    values,
    error: `${file} line ${line}: ${message}`,
  });
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? "";
    if (line === "") continue;
    const equals = line.indexOf("=");
    const heredoc = line.indexOf("<<");
    if (equals >= 0 && (heredoc < 0 || equals < heredoc)) {
      const name = line.slice(0, equals);
      if (name === "") return failed(i + 1, `the name before "=" is empty in ${JSON.stringify(line)}`);
      values[name] = line.slice(equals + 1);
      continue;
    }
    if (heredoc < 0) {
      return failed(i + 1, `expected NAME=value or NAME<<DELIMITER, got ${JSON.stringify(line)}`);
    }
    const name = line.slice(0, heredoc);
    const delimiter = line.slice(heredoc + 2);
    if (name === "" || delimiter === "") {
      return failed(
        i + 1,
        `"NAME<<DELIMITER" needs both a name and a delimiter, got ${JSON.stringify(line)}`,
      );
    }
    const end = lines.indexOf(delimiter, i + 1);
    if (end < 0) {
      return failed(
        i + 1,
        `the delimiter ${JSON.stringify(delimiter)} of ${name} never comes on a line of its own`,
      );
    }
    values[name] = lines.slice(i + 1, end).join("\n");
    i = end;
  }
  return { values };
}

/** GITHUB_PATH: one directory per non-empty line, in the order written. */
export function parsePathFile(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line !== "");
}
