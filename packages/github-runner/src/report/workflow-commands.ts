import { unescapeCommandData } from "@solstice/common";
import type { RunServiceAnnotation } from "../run-service/run-service-api.ts";

// Workflow commands in a step's output that the forge shows: `::error|warning|notice
// file=…,line=…,endLine=…,col=…,endColumn=…,title=…::message` become annotations, and the
// commands GitHub's log view folds or colours are written in its `##[…]` form (what the
// reference runner's log holds): ##[group], ##[endgroup], ##[error], ##[warning], ##[notice],
// ##[debug]. Property values are escaped like data, and also `%3A` (:) and `%2C` (,).

const COMMAND = /^::([A-Za-z-]+)(?:\s+([^:]*))?::(.*)$/;

/** An annotation's level as the run service names it. */
export type AnnotationLevel = RunServiceAnnotation["level"];

const LEVELS: Readonly<Record<string, AnnotationLevel>> = {
  error: "failure",
  warning: "warning",
  notice: "notice",
};

function unescapeProperty(value: string): string {
  return value.replace(/%0D|%0A|%3A|%2C|%25/gi, (s) => {
    switch (s.toUpperCase()) {
      case "%0D":
        return "\r";
      case "%0A":
        return "\n";
      case "%3A":
        return ":";
      case "%2C":
        return ",";
      default:
        return "%";
    }
  });
}

function properties(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? "").split(",")) {
    const at = part.indexOf("=");
    if (at <= 0) continue;
    out[part.slice(0, at).trim()] = unescapeProperty(part.slice(at + 1));
  }
  return out;
}

function positive(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * The annotation a line makes, if any.
 *
 * @example
 *   parseAnnotation("::error file=app.js,line=10,col=5::Missing semicolon", 2);
 *   // { level: "failure", message: "Missing semicolon", path: "app.js", startLine: 10, endLine: 10, startColumn: 5, endColumn: 5, stepNumber: 2 }
 */
export function parseAnnotation(line: string, stepNumber?: number): RunServiceAnnotation | undefined {
  const match = COMMAND.exec(line.trimStart());
  if (match === null) return undefined;
  const level = LEVELS[match[1]!.toLowerCase()];
  if (level === undefined) return undefined;
  const props = properties(match[2]);
  const startLine = positive(props["line"]);
  const endLine = positive(props["endLine"]) ?? startLine;
  const startColumn = positive(props["col"]);
  const endColumn = positive(props["endColumn"]) ?? startColumn;
  const title = props["title"];
  const path = props["file"];
  return {
    level,
    message: unescapeCommandData(match[3] ?? ""),
    ...(title === undefined || title === "" ? {} : { title }),
    ...(path === undefined || path === "" ? {} : { path }),
    ...(startLine === undefined ? {} : { startLine }),
    ...(endLine === undefined ? {} : { endLine }),
    ...(startColumn === undefined ? {} : { startColumn }),
    ...(endColumn === undefined ? {} : { endColumn }),
    ...(stepNumber === undefined ? {} : { stepNumber }),
  };
}

/** A line as GitHub's log view shows it: commands in their `##[…]` form, other lines unchanged. */
export function displayLine(line: string): string {
  const match = COMMAND.exec(line.trimStart());
  if (match === null) return line;
  const name = match[1]!.toLowerCase();
  switch (name) {
    case "group":
      return `##[group]${match[3] ?? ""}`;
    case "endgroup":
      return "##[endgroup]";
    case "error":
    case "warning":
    case "notice":
    case "debug":
      return `##[${name}]${unescapeCommandData(match[3] ?? "")}`;
    default:
      return line;
  }
}
