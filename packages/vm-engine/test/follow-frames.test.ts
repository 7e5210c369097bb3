import { describe, expect, it } from "vitest";
import { StepFollowProtocolError } from "../src/errors.ts";
import { type FollowEvent, FollowFrameParser } from "../src/exec/follow-frames.ts";

// The step follower's frames, fed in every possible split.

const STREAM = Buffer.from("o 0 6\nline1\n\ne 0 4\nerr\n\no 6 3\npar\ne 4 0\n\nx 7\n");

function collect(events: FollowEvent[]): { stdout: string; stderr: string; exits: number[] } {
  const out = { stdout: "", stderr: "", exits: [] as number[] };
  for (const event of events) {
    if (event.type === "exit") out.exits.push(event.code);
    else out[event.stream] += event.data.toString();
  }
  return out;
}

describe("FollowFrameParser", () => {
  it("decodes output and the exit status however the bytes are split", () => {
    for (let size = 1; size <= STREAM.length; size++) {
      const parser = new FollowFrameParser({ stdout: 0, stderr: 0 });
      const events: FollowEvent[] = [];
      for (let at = 0; at < STREAM.length; at += size)
        events.push(...parser.push(STREAM.subarray(at, at + size)));
      expect(collect(events)).toEqual({ stdout: "line1\npar", stderr: "err\n", exits: [7] });
      expect(parser.offsets).toEqual({ stdout: 9, stderr: 4 });
      expect(parser.exitCode).toBe(7);
    }
  });

  it("counts a frame cut short (a dropped connection) up to its last byte, so a resumed follower starts there", () => {
    const parser = new FollowFrameParser({ stdout: 100, stderr: 5 });
    const events = parser.push(Buffer.from("o 100 10\nabcd"));
    expect(collect(events).stdout).toBe("abcd");
    expect(parser.offsets).toEqual({ stdout: 104, stderr: 5 });
    expect(parser.exitCode).toBeUndefined();
    const resumed = new FollowFrameParser(parser.offsets);
    expect(collect(resumed.push(Buffer.from("o 104 6\nefghij\nx 0\n")))).toEqual({
      stdout: "efghij",
      stderr: "",
      exits: [0],
    });
  });

  it.each([
    ["an offset that is not the next byte", "o 3 2\nab\n", "stdout from byte 3 where 0 was next"],
    ["an unknown header", "hello\n", "an unknown frame header"],
    ["data longer than its header said", "o 0 2\nabc\n", "a frame longer than its header said"],
    ["bytes after the exit status", "x 0\no 0 1\na\n", "bytes after the exit status"],
    ["an overlong header", `o ${"1".repeat(100)}`, "an overlong frame header"],
  ])("refuses %s", (_, text, message) => {
    const parser = new FollowFrameParser({ stdout: 0, stderr: 0 });
    let error: unknown;
    try {
      parser.push(Buffer.from(text));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StepFollowProtocolError);
    expect((error as StepFollowProtocolError).code).toBe("ORCH_STEP_FOLLOW_PROTOCOL");
    expect((error as Error).message).toContain(message);
  });
});
