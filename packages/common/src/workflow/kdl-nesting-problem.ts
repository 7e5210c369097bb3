import type { KdlSyntaxProblem } from "./kdl-document.ts";
import type { KdlVersion } from "./kdl-version.ts";

/**
 * Whether `error` is the stack overflow of a recursive parser: both parsers recurse per `{` block
 * (kdljs also per nested `/* *\/` comment), so a deep enough text overflows the stack.
 */
export function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

/** The problem of a text nested deeper than a parser can go. */
export function nestingTooDeepProblem(version: KdlVersion, cause: unknown): KdlSyntaxProblem {
  return {
    version,
    location: { line: 1, column: 1 },
    detail: "the file nests `{ }` blocks or `/* */` comments too deeply to be read",
    hint: "a workflow nests four levels deep at most: workflow, job, step, env",
    cause,
  };
}
