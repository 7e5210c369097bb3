import type { SourceLocation } from "./workflow-types.ts";

/**
 * Lines and columns of offsets in a text, counted as kdljs's lexer counts them for KDL 2 (a line
 * ends at LF, CRLF or CR; a column is a UTF-16 code unit, from 1), so that both KDL versions
 * report the same place for the same character.
 */
export class SourceLines {
  readonly #starts: number[] = [0];
  readonly #length: number;

  constructor(source: string) {
    this.#length = source.length;
    for (const m of source.matchAll(/\r\n?|\n/g)) this.#starts.push(m.index + m[0].length);
  }

  /** The line and column of `offset` (clamped to the text). */
  locationOf(offset: number): SourceLocation {
    const at = Math.max(0, Math.min(offset, this.#length));
    let low = 0;
    let high = this.#starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.#starts[middle]! <= at) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, column: at - this.#starts[low]! + 1 };
  }

  /** The offset of a line and column (clamped to the text). */
  offsetOf(location: SourceLocation): number {
    const start = this.#starts[Math.min(Math.max(location.line, 1), this.#starts.length) - 1]!;
    return Math.min(start + Math.max(location.column, 1) - 1, this.#length);
  }

  /** Where the text ends. */
  end(): SourceLocation {
    return this.locationOf(this.#length);
  }
}
