import { describe, expect, it } from "vitest";
import { resolveCarriageReturns, stripControlSequences } from "../src/io/control-chars.ts";
import { LineSplitter } from "../src/io/line-splitter.ts";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("LineSplitter", () => {
  it("joins partial chunks and splits on \\n and \\r\\n", () => {
    const splitter = new LineSplitter();
    expect(splitter.push(bytes("hel"))).toEqual([]);
    expect(splitter.push(bytes("lo\r\nwor"))).toEqual(["hello"]);
    expect(splitter.push(bytes("ld\nlast"))).toEqual(["world"]);
    expect(splitter.flush()).toEqual(["last"]);
    expect(splitter.flush()).toEqual([]);
  });

  it("keeps a \\r\\n pair split across chunks as one line end", () => {
    const splitter = new LineSplitter();
    expect(splitter.push(bytes("a\r"))).toEqual([]);
    expect(splitter.push(bytes("\nb\n"))).toEqual(["a", "b"]);
  });

  it("keeps empty lines", () => {
    expect(new LineSplitter().push(bytes("a\n\n\nb\n"))).toEqual(["a", "", "", "b"]);
  });

  it("decodes UTF-8 split inside a character", () => {
    const splitter = new LineSplitter();
    const all = bytes("grüße ✓\n");
    const lines = [
      ...splitter.push(all.slice(0, 3)),
      ...splitter.push(all.slice(3, 9)),
      ...splitter.push(all.slice(9)),
    ];
    expect(lines).toEqual(["grüße ✓"]);
  });

  it("strips ANSI sequences and control characters", () => {
    const splitter = new LineSplitter();
    expect(splitter.push(bytes("\x1b[1;32mOK\x1b[0m done\x07\t!\n"))).toEqual(["OK done\t!"]);
  });

  it("can keep control sequences when asked", () => {
    expect(new LineSplitter({ stripControl: false }).push(bytes("\x1b[31mred\n"))).toEqual(["\x1b[31mred"]);
  });

  it("shows the last rewrite of a line redrawn with \\r", () => {
    expect(new LineSplitter().push(bytes("10%\r50%\r100%\n"))).toEqual(["100%"]);
  });

  it("cuts a line that never ends at maxLineLength", () => {
    const splitter = new LineSplitter({ maxLineLength: 4 });
    expect(splitter.push(bytes("abcdefghij"))).toEqual(["abcd", "efgh"]);
    expect(splitter.flush()).toEqual(["ij"]);
  });

  it("rejects a nonsensical maxLineLength", () => {
    expect(() => new LineSplitter({ maxLineLength: 0 })).toThrow(RangeError);
  });

  it("accepts strings as well as bytes", () => {
    expect(new LineSplitter().push("x\ny\n")).toEqual(["x", "y"]);
  });
});

describe("stripControlSequences", () => {
  it.each([
    ["plain text", "plain text"],
    ["\x1b[2J\x1b[Hcleared", "cleared"],
    ["\x1b]0;window title\x07prompt", "prompt"],
    ["\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"],
    ["\x1b(Bcharset", "charset"],
    ["nul\x00 and bell\x07", "nul and bell"],
    ["\x9b31mC1 CSI", "C1 CSI"],
  ])("%j -> %j", (input, expected) => {
    expect(stripControlSequences(input)).toBe(expected);
  });
});

describe("resolveCarriageReturns", () => {
  it.each([
    ["no cr", "no cr"],
    ["a\rb", "b"],
    ["text\r", "text"],
    ["\r", ""],
  ])("%j -> %j", (input, expected) => {
    expect(resolveCarriageReturns(input)).toBe(expected);
  });
});
