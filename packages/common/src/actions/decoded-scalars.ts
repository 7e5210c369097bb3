import { isScalar, LineCounter, parseDocument, visit } from "yaml";

// `@actions/workflow-parser` builds the expression of a multi-line string (a block scalar `|`,
// `>`, or a quoted or plain scalar over several lines) from the raw YAML source rather than the
// string's value: the indentation stays, folding is not applied, quotes and escapes are kept
// (it suits an editor, which wants positions). Running that as a script would be wrong, so the
// decoded value of such a scalar is read again with `yaml` (the library the parser uses), found
// by the position where the parser says the scalar starts.

/** The decoded string values of a YAML text's scalars, by the 1-based line and column they start at. */
export type DecodedScalars = (line: number, column: number) => string | undefined;

/**
 * Reads `text` (already known to be valid YAML) and returns a lookup of its string scalars.
 *
 * @example
 *   decodedScalars("run: |\n  echo a\n")(1, 6); // "echo a\n"
 */
export function decodedScalars(text: string): DecodedScalars {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true, uniqueKeys: false });
  const values = new Map<string, string>();
  visit(doc, {
    Scalar(_key, node) {
      if (isScalar(node) && typeof node.value === "string" && node.range) {
        const pos = lineCounter.linePos(node.range[0]);
        values.set(`${pos.line}:${pos.col}`, node.value);
      }
    },
  });
  return (line, column) => values.get(`${line}:${column}`);
}
