// A CGI program (git http-backend) answers with header lines, a blank line, then the body.
// `Status: 404 Not Found` sets the HTTP status; without it the status is 200.

/** The parsed head of a CGI response. */
export interface CgiHead {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Offset of the body's first byte in the buffer given. */
  readonly bodyStart: number;
}

/** Parses the head once `buffer` holds all of it; `undefined` while it does not yet. */
export function parseCgiHead(buffer: Buffer): CgiHead | undefined {
  const crlf = buffer.indexOf("\r\n\r\n");
  const lf = buffer.indexOf("\n\n");
  let end: number;
  let bodyStart: number;
  if (crlf >= 0 && (lf < 0 || crlf < lf)) {
    end = crlf;
    bodyStart = crlf + 4;
  } else if (lf >= 0) {
    end = lf;
    bodyStart = lf + 2;
  } else {
    return undefined;
  }
  let status = 200;
  const headers: (readonly [string, string])[] = [];
  for (const line of buffer.subarray(0, end).toString("latin1").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500;
    else headers.push([name, value]);
  }
  return { status, headers, bodyStart };
}
