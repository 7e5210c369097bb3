// kdljs exposes its lexer (the one `parse` uses) only from this internal module, and ships no
// types for it; we need its tokens for node positions, which kdljs's output does not carry.
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
}
