import { describe, expect, it } from "vitest";
import { applyJobToken, FORGEJO_TOKEN_SECRETS } from "../src/index.ts";

describe("the job token rule", () => {
  it("takes github.token and gives it to the secrets that are not set", () => {
    const github: Record<string, unknown> = { token: "t1" };
    const secrets: Record<string, string> = {};
    expect(applyJobToken(github, secrets)).toBe("t1");
    expect(secrets).toEqual({ GITHUB_TOKEN: "t1" });
  });

  it("lets a non-empty token secret override github.token, in the order of the names", () => {
    const github: Record<string, unknown> = { token: "task" };
    const secrets: Record<string, string> = { GITEA_TOKEN: "gitea", GITHUB_TOKEN: "gh", FORGEJO_TOKEN: "" };
    expect(applyJobToken(github, secrets, FORGEJO_TOKEN_SECRETS)).toBe("gitea");
    expect(github["token"]).toBe("gitea");
    expect(secrets).toEqual({ GITEA_TOKEN: "gitea", GITHUB_TOKEN: "gh", FORGEJO_TOKEN: "" });
  });

  it("finds no token when there is none", () => {
    const github: Record<string, unknown> = {};
    const secrets: Record<string, string> = { OTHER: "x" };
    expect(applyJobToken(github, secrets)).toBeUndefined();
    expect(github).toEqual({});
  });
});
