import { type KdlToken, lexer } from "kdljs/src/parser/kdl.js";
import type { NodePositions } from "./kdl-document.ts";
import type { SourceLocation } from "./workflow-types.ts";

// Where the nodes of a KDL 2 document are. kdljs returns nodes without positions, so we walk its
// own lexer's tokens with the same structure (slashdash, tags, properties, arguments, children)
// and pair the result with kdljs's nodes by order.

type AtomKind =
  | "string"
  | "value"
  | "equals"
  | "lbrace"
  | "rbrace"
  | "lparen"
  | "rparen"
  | "slashdash"
  | "term";

interface Atom {
  readonly kind: AtomKind;
  readonly location: SourceLocation;
  /** The string's text for `string` atoms (escapes decoded approximately; only used as a key). */
  readonly text: string;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\n": "\n",
  "\\r": "\r",
  "\\t": "\t",
  "\\\\": "\\",
  "\\/": "/",
  '\\"': '"',
  "\\b": "\b",
  "\\f": "\f",
  "\\s": " ",
};

const SKIPPED = new Set([
  "WhiteSpace",
  "BOM",
  "LineComment",
  "OpenMultiLineComment",
  "MultiLineCommentContent",
  "CloseMultiLineComment",
]);

const SINGLE: Record<string, AtomKind> = {
  Identifier: "string",
  RawString: "string",
  MultiLineRawString: "string",
  Boolean: "value",
  Null: "value",
  FloatKeyword: "value",
  Float: "value",
  Integer: "value",
  Equals: "equals",
  LeftBrace: "lbrace",
  RightBrace: "rbrace",
  LeftParenthesis: "lparen",
  RightParenthesis: "rparen",
  BlockComment: "slashdash",
  NewLine: "term",
  SemiColon: "term",
};

function locationOf(token: KdlToken): SourceLocation {
  return { line: token.startLine ?? 1, column: token.startColumn ?? 1 };
}

function rawStringText(image: string): string {
  const hashes = /^#+/.exec(image)?.[0].length ?? 0;
  const quotes = image.startsWith(`${"#".repeat(hashes)}"""`) ? 3 : 1;
  return image.slice(hashes + quotes, image.length - hashes - quotes);
}

/** Turns the token stream into the atoms the node structure is made of. */
function atomize(tokens: readonly KdlToken[]): Atom[] {
  const atoms: Atom[] = [];
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i]!;
    const type = token.tokenType.name;
    if (SKIPPED.has(type)) {
      i += 1;
    } else if (type === "EscLine") {
      // A line continuation: `\`, optional space and comment, then the newline it swallows.
      i += 1;
      while (i < tokens.length && SKIPPED.has(tokens[i]!.tokenType.name)) i += 1;
      if (i < tokens.length && tokens[i]!.tokenType.name === "NewLine") i += 1;
    } else if (type === "OpenQuote" || type === "MultiLineOpenQuote") {
      const close = type === "OpenQuote" ? "CloseQuote" : "MultiLineCloseQuote";
      let text = "";
      i += 1;
      while (i < tokens.length && tokens[i]!.tokenType.name !== close) {
        const part = tokens[i]!;
        text += part.tokenType.name === "Escape" ? (SIMPLE_ESCAPES[part.image] ?? "") : part.image;
        i += 1;
      }
      i += 1;
      atoms.push({ kind: "string", location: locationOf(token), text });
    } else {
      const kind = SINGLE[type];
      if (kind !== undefined) {
        const text =
          type === "Identifier" ? token.image : kind === "string" ? rawStringText(token.image) : "";
        atoms.push({ kind, location: locationOf(token), text });
      }
      i += 1;
    }
  }
  return atoms;
}

interface MutableNode {
  name: string;
  location: SourceLocation;
  properties: Map<string, SourceLocation>;
  values: SourceLocation[];
  children: NodePositions[];
}

/** A recursive-descent walk over atoms of a document kdljs has already accepted. */
class PositionWalker {
  readonly #atoms: readonly Atom[];
  #at = 0;

  constructor(atoms: readonly Atom[]) {
    this.#atoms = atoms;
  }

  #peek(offset = 0): Atom | undefined {
    return this.#atoms[this.#at + offset];
  }

  #skipTerms(): void {
    while (this.#peek()?.kind === "term") this.#at += 1;
  }

  nodes(insideBraces: boolean): NodePositions[] {
    const nodes: NodePositions[] = [];
    for (;;) {
      this.#skipTerms();
      const atom = this.#peek();
      if (atom === undefined) return nodes;
      if (atom.kind === "rbrace") {
        if (insideBraces) this.#at += 1;
        return nodes;
      }
      if (atom.kind === "slashdash") {
        this.#at += 1;
        this.#skipTerms();
        this.#node();
      } else {
        nodes.push(this.#node());
      }
    }
  }

  #skipTag(): void {
    if (this.#peek()?.kind !== "lparen") return;
    while (this.#peek() !== undefined && this.#peek()?.kind !== "rparen") this.#at += 1;
    this.#at += 1;
  }

  #node(): NodePositions {
    const start = this.#peek()!.location;
    this.#skipTag();
    const nameAtom = this.#peek();
    this.#at += 1;
    const node: MutableNode = {
      name: nameAtom?.text ?? "",
      location: start,
      properties: new Map(),
      values: [],
      children: [],
    };
    for (;;) {
      const atom = this.#peek();
      if (atom === undefined || atom.kind === "rbrace") return node;
      if (atom.kind === "term") {
        this.#at += 1;
        return node;
      }
      if (atom.kind === "slashdash") {
        this.#at += 1;
        this.#skipTerms();
        this.#entry({ ...node, properties: new Map(), values: [], children: [] });
      } else {
        this.#entry(node);
      }
    }
  }

  #entry(node: MutableNode): void {
    const atom = this.#peek()!;
    if (atom.kind === "lbrace") {
      this.#at += 1;
      node.children = this.nodes(true);
      return;
    }
    if (atom.kind === "string" && this.#peek(1)?.kind === "equals") {
      node.properties.delete(atom.text);
      node.properties.set(atom.text, atom.location);
      this.#at += 2;
      this.#skipTag();
      this.#at += 1;
      return;
    }
    const location = atom.location;
    this.#skipTag();
    this.#at += 1;
    node.values.push(location);
  }
}

/** The positions of every (non-slashdashed) node of a KDL 2 document kdljs accepted, as a tree. */
export function kdlV2NodePositions(source: string): NodePositions[] {
  return new PositionWalker(atomize(lexer.tokenize(source).tokens)).nodes(false);
}
