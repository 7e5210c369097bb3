import { StepFollowProtocolError } from "../errors.ts";

// The step follower's frames (see FOLLOW_SCRIPT in ./step-script.ts), parsed from bytes as they
// arrive in arbitrary chunks. Pure: no I/O. Output bytes are handed on as they come (never held
// whole), so a step's output costs no memory here however long it is; only a header line is held,
// and it is bounded.

/** What a frame said. */
export type FollowEvent =
  | { readonly type: "output"; readonly stream: "stdout" | "stderr"; readonly data: Buffer }
  | { readonly type: "exit"; readonly code: number };

/** A header is `o <offset> <length>` or `x <status>`: a few dozen bytes at most. */
const MAX_HEADER_BYTES = 64;
const NEWLINE = 0x0a;

/**
 * Parses one run of the follower. It checks every frame's offset against the bytes it has
 * already handed on for that stream (starting at `offsets`), so a resumed follower that starts
 * anywhere else is an error, never a repeated or lost line. Throws {@link StepFollowProtocolError}.
 *
 * @example
 *   const parser = new FollowFrameParser({ stdout: 0, stderr: 0 });
 *   parser.push(Buffer.from("o 0 3\nhi\n\nx 0\n"));
 *   // [{ type: "output", stream: "stdout", data: <"hi\n"> }, { type: "exit", code: 0 }]
 *   parser.offsets; // { stdout: 3, stderr: 0 }
 */
export class FollowFrameParser {
  #stdout: number;
  #stderr: number;
  #header: Buffer[] = [];
  #headerBytes = 0;
  /** Inside a frame's data: which stream, how many bytes are still to come. */
  #data: { stream: "stdout" | "stderr"; remaining: number } | undefined;
  /** The newline after a frame's data is still to come. */
  #trailer = false;
  #exitCode: number | undefined;

  constructor(offsets: { readonly stdout: number; readonly stderr: number }) {
    this.#stdout = offsets.stdout;
    this.#stderr = offsets.stderr;
  }

  /** Bytes of each stream handed on so far (where a resumed follower starts). */
  get offsets(): { readonly stdout: number; readonly stderr: number } {
    return { stdout: this.#stdout, stderr: this.#stderr };
  }

  /** The step's exit status, once its frame arrived. */
  get exitCode(): number | undefined {
    return this.#exitCode;
  }

  /** Feed a chunk; returns what it completed. */
  push(chunk: Buffer): FollowEvent[] {
    const events: FollowEvent[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.#exitCode !== undefined) throw new StepFollowProtocolError("bytes after the exit status");
      const data = this.#data;
      if (data !== undefined) {
        const take = Math.min(data.remaining, chunk.length - at);
        const piece = chunk.subarray(at, at + take);
        at += take;
        data.remaining -= take;
        if (data.stream === "stdout") this.#stdout += take;
        else this.#stderr += take;
        events.push({ type: "output", stream: data.stream, data: piece });
        if (data.remaining === 0) {
          this.#data = undefined;
          this.#trailer = true;
        }
        continue;
      }
      if (this.#trailer) {
        if (chunk[at] !== NEWLINE) throw new StepFollowProtocolError("a frame longer than its header said");
        this.#trailer = false;
        at += 1;
        continue;
      }
      const newline = chunk.indexOf(NEWLINE, at);
      const end = newline === -1 ? chunk.length : newline;
      this.#headerBytes += end - at;
      if (this.#headerBytes > MAX_HEADER_BYTES) throw new StepFollowProtocolError("an overlong frame header");
      this.#header.push(chunk.subarray(at, end));
      at = end;
      if (newline === -1) break;
      at += 1;
      const header = Buffer.concat(this.#header).toString("latin1");
      this.#header = [];
      this.#headerBytes = 0;
      const exit = this.#headerLine(header);
      if (exit !== undefined) events.push(exit);
    }
    return events;
  }

  /** Applies a complete header line; returns the exit event when it is one. */
  #headerLine(header: string): FollowEvent | undefined {
    const exit = /^x (\d{1,3})$/.exec(header);
    if (exit !== null) {
      this.#exitCode = Number(exit[1]);
      return { type: "exit", code: this.#exitCode };
    }
    const frame = /^([oe]) (\d{1,15}) (\d{1,15})$/.exec(header);
    if (frame === null) throw new StepFollowProtocolError(`an unknown frame header (${header.length} bytes)`);
    const stream = frame[1] === "o" ? "stdout" : "stderr";
    const offset = Number(frame[2]);
    const length = Number(frame[3]);
    const expected = stream === "stdout" ? this.#stdout : this.#stderr;
    if (offset !== expected) {
      throw new StepFollowProtocolError(`${stream} from byte ${offset} where ${expected} was next`);
    }
    if (length > 0) this.#data = { stream, remaining: length };
    else this.#trailer = true;
    return undefined;
  }
}
