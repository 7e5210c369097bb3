import type { KdlDocument, KdlParse, KdlSyntaxProblem } from "./kdl-document.ts";
import { parseKdlV1 } from "./kdl-v1-parse.ts";
import { parseKdlV2 } from "./kdl-v2-parse.ts";
import { type KdlVersion, kdlVersionMarker, otherKdlVersion } from "./kdl-version.ts";

// One reader for both KDL versions, as the KDL spec advises for the transition: a file's
// `/- kdl-version N` marker decides; an unmarked file is tried as KDL 2, then as KDL 1. The spec
// makes this safe: a text that both versions accept means the same in both.

const PARSERS: Readonly<Record<KdlVersion, (source: string) => KdlParse>> = {
  1: parseKdlV1,
  2: parseKdlV2,
};

/** Why a text is KDL of neither version (or not of the version it is marked as). */
export interface KdlReadFailure {
  /** The error of the version the file most likely is: the marked one, else the one that got further. */
  readonly problem: KdlSyntaxProblem;
  /** The version the file's marker names, if it has one (then only that version counts). */
  readonly marked: KdlVersion | undefined;
  /**
   * The other version's error when the file is unmarked and was tried as both; `"valid"` when a
   * marked file is valid in the other version (its marker is likely wrong); else undefined.
   */
  readonly other: KdlSyntaxProblem | "valid" | undefined;
}

/** What reading a text as KDL gave: the document and the version it was read as, or why not. */
export type KdlRead =
  | { readonly ok: true; readonly document: KdlDocument }
  | { readonly ok: false; readonly failure: KdlReadFailure };

/** Whether `a` stops strictly further into the text than `b`. */
function furtherThan(a: KdlSyntaxProblem, b: KdlSyntaxProblem): boolean {
  return (
    a.location.line > b.location.line ||
    (a.location.line === b.location.line && a.location.column > b.location.column)
  );
}

/**
 * Reads `source` as KDL 1 or 2: the version its marker names, else KDL 2 and then KDL 1.
 *
 * @example
 *   const read = readKdl('workflow { job id="a" { step run=r"make"; }; }');
 *   read.ok && read.document.version; // 1
 */
export function readKdl(source: string): KdlRead {
  const marked = kdlVersionMarker(source);
  if (marked !== undefined) {
    const parsed = PARSERS[marked](source);
    if (parsed.ok) return parsed;
    // Only to say so when the marker is likely wrong.
    const other = PARSERS[otherKdlVersion(marked)](source).ok ? "valid" : undefined;
    return { ok: false, failure: { problem: parsed.problem, marked, other } };
  }
  const v2 = parseKdlV2(source);
  if (v2.ok) return v2;
  const v1 = parseKdlV1(source);
  if (v1.ok) return v1;
  // At a tie KDL 2 wins: it is the version the spec tells new files to use.
  return furtherThan(v1.problem, v2.problem)
    ? { ok: false, failure: { problem: v1.problem, marked, other: v2.problem } }
    : { ok: false, failure: { problem: v2.problem, marked, other: v1.problem } };
}
