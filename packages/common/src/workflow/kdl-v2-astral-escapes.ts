import { parse } from "@bgotink/kdl";
import { bgotinkKdlTree } from "./kdl-bgotink-tree.ts";
import type { KdlDocument } from "./kdl-document.ts";
import { SourceLines } from "./source-lines.ts";

// kdljs 0.3 decodes an escape above U+FFFF (`\u{1F600}`) with String.fromCharCode, which keeps
// only its low 16 bits. A text that may hold one takes its tree from @bgotink/kdl's KDL 2 parser
// (the one read for KDL 1), which decodes it right; kdljs still decides what is valid.
const ASTRAL_ESCAPE = /\\u\{0*(?:[1-9a-fA-F][0-9a-fA-F]{4}|10[0-9a-fA-F]{4})\}/;

/**
 * The document of a KDL 2 text kdljs accepted, read by @bgotink/kdl, when the text may hold an
 * escape above U+FFFF; undefined otherwise (then kdljs's own reading is right).
 */
export function astralSafeDocument(source: string): KdlDocument | undefined {
  if (!ASTRAL_ESCAPE.test(source)) return undefined;
  try {
    const tree = bgotinkKdlTree(parse(source, { storeLocations: true }), new SourceLines(source));
    return { version: 2, ...tree };
  } catch {
    // The parsers disagree on the text: keep kdljs's reading.
    return undefined;
  }
}
