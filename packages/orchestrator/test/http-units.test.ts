import { describe, expect, test } from "vitest";
import { bearerTokenMatches } from "../src/http/bearer-auth.ts";
import { formatSse, SSE_KEEPALIVE } from "../src/http/server-sent-events.ts";
import { parseSse } from "./http-api-cases.ts";

describe("bearerTokenMatches", () => {
  const token = "s3cr3t-token-value-0123";
  test.each([
    [`Bearer ${token}`, true],
    [`bearer ${token}`, true],
    [`Bearer  ${token} `, true],
    [`Bearer ${token}x`, false],
    [`Bearer ${token.slice(1)}`, false],
    [`Basic ${token}`, false],
    [token, false],
    ["Bearer ", false],
    ["", false],
    [undefined, false],
    [`Bearer ${token} extra`, false],
  ])("%j → %s", (header, expected) => {
    expect(bearerTokenMatches(header, token)).toBe(expected);
  });
});

describe("server-sent events", () => {
  test.each([
    [{ data: "x" }, "data: x\n\n"],
    [{ id: 7, event: "log", data: '{"a":1}' }, 'id: 7\nevent: log\ndata: {"a":1}\n\n'],
    [{ data: "two\nlines\r\nthree" }, "data: two\ndata: lines\ndata: three\n\n"],
    [{ id: "a\nb", event: "e\rv", data: "" }, "id: ab\nevent: ev\ndata: \n\n"],
  ])("%j", (event, text) => {
    expect(formatSse(event)).toBe(text);
  });

  test("round trip through a parser, keep-alive comments ignored", () => {
    const body =
      formatSse({ id: 1, event: "log", data: "a\nb" }) +
      SSE_KEEPALIVE +
      formatSse({ event: "end", data: "{}" });
    expect(parseSse(body)).toEqual([
      { id: "1", event: "log", data: "a\nb" },
      { event: "end", data: "{}" },
    ]);
  });
});
