// kdljs exposes its lexer and parser (the ones `parse` uses) only from this internal module, and
// ships no types for them; we need the tokens for node positions, which kdljs's output does not
// carry, and the parser for the first error of a text its lexer rejects.
declare module "kdljs/src/parser/kdl.js" {
  export interface KdlToken {
    readonly image: string;
    readonly startOffset: number;
    readonly startLine?: number;
    readonly startColumn?: number;
    readonly tokenType: { readonly name: string };
  }
  export interface KdlLexingResult {
    readonly tokens: KdlToken[];
    readonly errors: unknown[];
  }
  export const lexer: { tokenize(text: string): KdlLexingResult };
  export const parser: { input: KdlToken[]; document(): unknown; readonly errors: unknown[] };
}
