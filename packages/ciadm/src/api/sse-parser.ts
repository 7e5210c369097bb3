// A server-sent events reader fed the response's bytes as they come (text/event-stream:
// `field: value` lines, events ended by a blank line, `:` comments). Pure: the caller does I/O.

/** One event. */
export interface ServerSentEvent {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
}

/**
 * Splits a text/event-stream into events.
 *
 * @example
 *   const parser = new SseParser();
 *   for (const e of parser.push("event: log\ndata: {}\n\n")) handle(e);
 */
export class SseParser {
  readonly #decoder = new TextDecoder();
  #buffer = "";
  #event = "";
  #data: string[] = [];
  #id: string | undefined;

  /** Feeds bytes (or text); returns the events completed by them. */
  push(chunk: Uint8Array | string): ServerSentEvent[] {
    this.#buffer += typeof chunk === "string" ? chunk : this.#decoder.decode(chunk, { stream: true });
    const out: ServerSentEvent[] = [];
    for (;;) {
      const end = this.#buffer.search(/\r\n|\r|\n/);
      if (end < 0) break;
      const line = this.#buffer.slice(0, end);
      const width = this.#buffer.startsWith("\r\n", end) ? 2 : 1;
      this.#buffer = this.#buffer.slice(end + width);
      const event = this.#line(line);
      if (event !== undefined) out.push(event);
    }
    return out;
  }

  #line(line: string): ServerSentEvent | undefined {
    if (line === "") {
      if (this.#data.length === 0) {
        this.#event = "";
        return undefined;
      }
      const event = {
        event: this.#event === "" ? "message" : this.#event,
        data: this.#data.join("\n"),
        id: this.#id,
      };
      this.#event = "";
      this.#data = [];
      return event;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.#event = value;
    else if (field === "data") this.#data.push(value);
    else if (field === "id") this.#id = value;
    return undefined;
  }
}
