import { InvalidKdlError } from "@bgotink/kdl";
import { parse } from "@bgotink/kdl/v1-compat";
import { bgotinkKdlTree } from "./kdl-bgotink-tree.ts";
import type { KdlParse } from "./kdl-document.ts";
import { isStackOverflow, nestingTooDeepProblem } from "./kdl-nesting-problem.ts";
import { kdlV1EscapeProblem, kdlV1FailureProblem, kdlV1SyntaxProblem } from "./kdl-v1-syntax-error.ts";
import { SourceLines } from "./source-lines.ts";

/**
 * Reads `source` as KDL 1 (the original's `kdl` crate 4; here @bgotink/kdl's KDL 1 parser): its
 * nodes and their positions, or its first syntax error.
 *
 * @example
 *   const parsed = parseKdlV1('workflow { job id="a" { step run=r#"echo "hi""#; }; }');
 *   parsed.ok && parsed.document.nodes[0]?.children[0]?.name; // "job"
 */
export function parseKdlV1(source: string): KdlParse {
  let document: ReturnType<typeof parse>;
  try {
    document = parse(source, { storeLocations: true });
  } catch (error) {
    // The parser reports its own stack overflow as an InvalidKdlError caused by it.
    const causes = [
      error,
      ...(error instanceof InvalidKdlError ? [...error.flat()].map((e) => e.cause) : []),
    ];
    if (causes.some(isStackOverflow)) return { ok: false, problem: nestingTooDeepProblem(1, error) };
    if (error instanceof InvalidKdlError) return { ok: false, problem: kdlV1SyntaxProblem(error, source) };
    return { ok: false, problem: kdlV1FailureProblem(error, source) };
  }
  const badEscape = kdlV1EscapeProblem(source);
  if (badEscape !== undefined) return { ok: false, problem: badEscape };
  try {
    return { ok: true, document: { version: 1, ...bgotinkKdlTree(document, new SourceLines(source)) } };
  } catch (error) {
    if (isStackOverflow(error)) return { ok: false, problem: nestingTooDeepProblem(1, error) };
    throw error;
  }
}
