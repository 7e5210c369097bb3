import type { KdlVersion } from "./kdl-version.ts";
import type { SourceLocation } from "./workflow-types.ts";

// What a KDL parser gives the workflow checker, whichever KDL version it read: the same node tree
// (kdljs's shape, which KDL 1 documents are converted to) and where each part of it is.

/** A KDL value: KDL 1 and 2 hold the same kinds. */
export type KdlValue = string | number | boolean | null;

/** A KDL node without its type annotations (no workflow node has a use for them). */
export interface KdlNode {
  readonly name: string;
  /** Arguments, in order. */
  readonly values: readonly KdlValue[];
  /** Properties; a repeated key keeps its last value, as KDL says. */
  readonly properties: Readonly<Record<string, KdlValue>>;
  readonly children: readonly KdlNode[];
}

/** Where a KDL node and its entries are in the source, as a tree shaped like the nodes. */
export interface NodePositions {
  readonly name: string;
  /** Where the node starts (its type annotation, when it has one). */
  readonly location: SourceLocation;
  /** Each property's key position; for a repeated key, the last one (which KDL keeps). */
  readonly properties: ReadonlyMap<string, SourceLocation>;
  /** Each argument's position, in order. */
  readonly values: readonly SourceLocation[];
  readonly children: readonly NodePositions[];
}

/** A KDL document that parsed, with the version it was read as. */
export interface KdlDocument {
  readonly version: KdlVersion;
  readonly nodes: readonly KdlNode[];
  /** The positions of `nodes`, in the same order (slashdashed nodes are in neither). */
  readonly positions: readonly NodePositions[];
}

/** Why a text is not a KDL document of one version: the first error, in words, and where. */
export interface KdlSyntaxProblem {
  readonly version: KdlVersion;
  readonly location: SourceLocation;
  /** What is wrong, e.g. "unexpected `}`; expected the end of the file". */
  readonly detail: string;
  /** What to do about it, when there is something specific to say. */
  readonly hint: string | undefined;
  /** The parser's own error. */
  readonly cause: unknown;
}

/** What one version's parser made of a text. */
export type KdlParse =
  | { readonly ok: true; readonly document: KdlDocument }
  | { readonly ok: false; readonly problem: KdlSyntaxProblem };
