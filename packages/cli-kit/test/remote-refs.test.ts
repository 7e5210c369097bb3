import { describe, expect, it } from "vitest";
import { pickRemoteRef } from "../src/index.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);
const D = "d".repeat(40);
const OUTPUT = [
  "ref: refs/heads/main\tHEAD",
  `${A}\tHEAD`,
  `${A}\trefs/heads/main`,
  `${B}\trefs/heads/v1`,
  `${C}\trefs/tags/v1`,
  `${D}\trefs/tags/v1^{}`,
  `${B}\trefs/pull/3/head`,
].join("\n");

describe("picking a remote ref (git's precedence)", () => {
  it("resolves HEAD through its symref", () => {
    expect(pickRemoteRef(OUTPUT, "HEAD")).toEqual({ ref: "refs/heads/main", sha: A });
  });
  it("prefers a tag over a branch of the same name, and peels an annotated tag", () => {
    expect(pickRemoteRef(OUTPUT, "v1")).toEqual({ ref: "refs/tags/v1", sha: D });
  });
  it("takes a full ref as given, and a branch by its short name", () => {
    expect(pickRemoteRef(OUTPUT, "refs/heads/v1")).toEqual({ ref: "refs/heads/v1", sha: B });
    expect(pickRemoteRef(OUTPUT, "refs/pull/3/head")).toEqual({ ref: "refs/pull/3/head", sha: B });
    expect(pickRemoteRef(OUTPUT, "main")).toEqual({ ref: "refs/heads/main", sha: A });
  });
  it("finds nothing for an unknown name", () => {
    expect(pickRemoteRef(OUTPUT, "nope")).toBeUndefined();
  });
});
