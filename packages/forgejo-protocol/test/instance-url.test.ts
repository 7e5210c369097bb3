import { describe, expect, it } from "vitest";
import { actionsApiBaseUrl, normaliseInstanceUrl } from "../src/instance-url.ts";

describe("instance URLs", () => {
  it("keeps scheme, host, port and a sub-path, without a trailing slash", () => {
    expect(normaliseInstanceUrl("https://codeberg.org/")).toBe("https://codeberg.org");
    expect(normaliseInstanceUrl(" http://forgejo.lan:3000/git// ")).toBe("http://forgejo.lan:3000/git");
    expect(actionsApiBaseUrl("https://codeberg.org")).toBe("https://codeberg.org/api/actions");
  });

  it.each([
    ["codeberg.org", "not a URL"],
    ["ftp://x.org", "the scheme must be http or https"],
    ["https://u:p@x.org", "must not carry credentials"],
    ["https://x.org/?a=1", "must not have a query"],
  ])("refuses %s", (url, problem) => {
    expect(() => normaliseInstanceUrl(url)).toThrow(problem);
  });
});
