import { describe, expect, it } from "vitest";
import { QmpProtocolError } from "../src/errors.ts";
import { MAX_QMP_LINE_BYTES, parseQmpLine, QmpParser } from "../src/qmp/qmp-parser.ts";

const greeting =
  '{"QMP": {"version": {"qemu": {"micro": 1, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7"}, "capabilities": ["oob"]}}\r\n';
const reply = '{"return": {"status": "running", "singlestep": false, "running": true}, "id": 2}\r\n';
const event =
  '{"timestamp": {"seconds": 1700000000, "microseconds": 12}, "event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}\r\n';
const error =
  '{"id": 3, "error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}\r\n';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("parseQmpLine", () => {
  it("recognises the four message kinds", () => {
    expect(parseQmpLine(greeting.trim())).toEqual({
      type: "greeting",
      version: { major: 7, minor: 2, micro: 1 },
      package: "Debian 1:7.2+dfsg-7",
      capabilities: ["oob"],
    });
    expect(parseQmpLine(reply.trim())).toEqual({
      type: "return",
      id: 2,
      value: { status: "running", singlestep: false, running: true },
    });
    expect(parseQmpLine(event.trim())).toEqual({
      type: "event",
      event: "SHUTDOWN",
      data: { guest: false, reason: "host-qmp-quit" },
      timestamp: { seconds: 1700000000, microseconds: 12 },
    });
    expect(parseQmpLine(error.trim())).toEqual({
      type: "error",
      id: 3,
      errorClass: "CommandNotFound",
      desc: "The command nope has not been found",
    });
  });

  it("accepts an answer without id and an empty return", () => {
    expect(parseQmpLine('{"return": {}}')).toEqual({ type: "return", id: undefined, value: {} });
  });

  it("rejects what is not QMP", () => {
    for (const line of ["not json", "[1,2]", "42", '{"hello": 1}', '{"error": "x"}', '{"event": 3}']) {
      expect(() => parseQmpLine(line)).toThrow(QmpProtocolError);
    }
  });
});

describe("QmpParser", () => {
  it("returns several messages from one chunk, in order", () => {
    const parser = new QmpParser();
    const messages = parser.push(bytes(greeting + reply + event + error));
    expect(messages.map((m) => m.type)).toEqual(["greeting", "return", "event", "error"]);
    expect(parser.bufferedBytes).toBe(0);
  });

  it("joins a message split over chunks, at every possible cut", () => {
    const all = bytes(greeting + event);
    for (let cut = 1; cut < all.length; cut++) {
      const parser = new QmpParser();
      const first = parser.push(all.subarray(0, cut));
      const second = parser.push(all.subarray(cut));
      expect([...first, ...second].map((m) => m.type)).toEqual(["greeting", "event"]);
    }
  });

  it("handles one byte at a time, and a multi-byte character cut in two", () => {
    const text = '{"event": "X", "data": {"text": "grüße ✓"}}\n';
    const parser = new QmpParser();
    const messages = [];
    for (const byte of bytes(text)) messages.push(...parser.push(Uint8Array.of(byte)));
    expect(messages).toEqual([
      { type: "event", event: "X", data: { text: "grüße ✓" }, timestamp: undefined },
    ]);
  });

  it("keeps an incomplete tail until its newline arrives, and ignores blank lines", () => {
    const parser = new QmpParser();
    expect(parser.push(bytes('\r\n\n{"return": {}, "id"'))).toEqual([]);
    expect(parser.bufferedBytes).toBe(Buffer.byteLength(`{"return": {}, "id"`));
    expect(parser.push(bytes(": 7}\r\n"))).toEqual([{ type: "return", id: 7, value: {} }]);
  });

  it("does not keep references to the caller's buffer", () => {
    const parser = new QmpParser();
    const chunk = bytes('{"return": 1, "id": 1');
    parser.push(chunk);
    chunk.fill(0x20);
    expect(parser.push(bytes("}\n"))).toEqual([{ type: "return", id: 1, value: 1 }]);
  });

  it("refuses a line that never ends", () => {
    const parser = new QmpParser();
    const big = new Uint8Array(1024 * 1024).fill(0x20);
    expect(() => {
      for (let sent = 0; sent <= MAX_QMP_LINE_BYTES; sent += big.length) parser.push(big);
    }).toThrow(QmpProtocolError);
    expect(parser.bufferedBytes).toBe(0);
  });
});
