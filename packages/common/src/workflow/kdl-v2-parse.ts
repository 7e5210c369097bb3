import { parse } from "kdljs";
import type { KdlParse } from "./kdl-document.ts";
import { isStackOverflow, nestingTooDeepProblem } from "./kdl-nesting-problem.ts";
import { astralSafeDocument } from "./kdl-v2-astral-escapes.ts";
import { kdlV2NodePositions } from "./kdl-v2-positions.ts";
import { kdlV2SyntaxProblem } from "./kdl-v2-syntax-error.ts";

/**
 * Reads `source` as KDL 2 (kdljs 0.3): its nodes and their positions, or its first syntax error.
 *
 * @example
 *   const parsed = parseKdlV2('workflow { job id="a" { step run=#"echo "hi""# } }');
 *   parsed.ok && parsed.document.nodes[0]?.name; // "workflow"
 */
export function parseKdlV2(source: string): KdlParse {
  try {
    const parsed = parse(source);
    if (parsed.errors.length > 0 || parsed.output === undefined) {
      return { ok: false, problem: kdlV2SyntaxProblem(parsed.errors, source) };
    }
    return {
      ok: true,
      document: astralSafeDocument(source) ?? {
        version: 2,
        nodes: parsed.output,
        positions: kdlV2NodePositions(source),
      },
    };
  } catch (error) {
    if (isStackOverflow(error)) return { ok: false, problem: nestingTooDeepProblem(2, error) };
    throw error;
  }
}
