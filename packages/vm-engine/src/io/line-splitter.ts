import { resolveCarriageReturns, stripControlSequences } from "./control-chars.ts";

// Output arrives in arbitrary chunks (SSH channel data, console socket reads). The splitter is fed
// bytes and hands back complete lines; it holds the partial tail until the next chunk or flush().
// Pure: no I/O, so the console tailer and the step runner share it and tests drive it directly.

/** Options for {@link LineSplitter}. */
export interface LineSplitterOptions {
  /**
   * A line longer than this many characters is cut and emitted in pieces, so a program that never
   * prints a newline cannot grow the buffer without bound. Default 16384.
   */
  readonly maxLineLength?: number;
  /** Remove ANSI escape sequences and control characters. Default true. */
  readonly stripControl?: boolean;
}

const DEFAULT_MAX_LINE_LENGTH = 16_384;

/**
 * Splits a byte stream into text lines: UTF-8 decoded across chunk boundaries, `\n` and `\r\n`
 * line ends, a bare `\r` treated as a terminal would (the last rewrite of the line wins), ANSI
 * sequences and control characters removed.
 *
 * @example
 *   const splitter = new LineSplitter();
 *   splitter.push(Buffer.from("hel"));        // []
 *   splitter.push(Buffer.from("lo\r\nwor"));  // ["hello"]
 *   splitter.flush();                         // ["wor"]
 */
export class LineSplitter {
  readonly #decoder = new TextDecoder("utf-8", { fatal: false });
  readonly #maxLineLength: number;
  readonly #stripControl: boolean;
  #pending = "";

  constructor(options: LineSplitterOptions = {}) {
    this.#maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    this.#stripControl = options.stripControl ?? true;
    if (!Number.isInteger(this.#maxLineLength) || this.#maxLineLength < 1) {
      throw new RangeError("maxLineLength must be a positive integer");
    }
  }

  /** Feed a chunk; returns the lines it completed (possibly none). */
  push(chunk: Uint8Array | string): string[] {
    const text = typeof chunk === "string" ? chunk : this.#decoder.decode(chunk, { stream: true });
    if (text === "") return [];
    this.#pending += text;
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const newline = this.#pending.indexOf("\n", start);
      if (newline === -1) break;
      lines.push(this.#finish(this.#pending.slice(start, newline)));
      start = newline + 1;
    }
    this.#pending = this.#pending.slice(start);
    // Cut overlong partial lines, but never split a "\r\n" pair across the cut.
    while (this.#pending.length > this.#maxLineLength) {
      let cut = this.#maxLineLength;
      if (this.#pending.charCodeAt(cut - 1) === 0x0d) cut -= 1;
      if (cut === 0) break;
      lines.push(this.#finish(this.#pending.slice(0, cut)));
      this.#pending = this.#pending.slice(cut);
    }
    return lines;
  }

  /** End of stream: returns the last, unterminated line if there is one. */
  flush(): string[] {
    const rest = this.#pending + this.#decoder.decode();
    this.#pending = "";
    if (rest === "") return [];
    return [this.#finish(rest)];
  }

  #finish(raw: string): string {
    const line = resolveCarriageReturns(raw.endsWith("\r") ? raw.slice(0, -1) : raw);
    return this.#stripControl ? stripControlSequences(line) : line;
  }
}
