import { describe, expect, it } from "vitest";
import { createLogMasker, MASK } from "../src/exec/log-masker.ts";

describe("createLogMasker", () => {
  it("replaces every occurrence of every secret", () => {
    const mask = createLogMasker(["s3cret", "tok"]);
    expect(mask("a s3cret and tok and s3cret")).toBe(`a ${MASK} and ${MASK} and ${MASK}`);
  });

  it("masks a longer secret whole even when it contains a shorter one", () => {
    expect(createLogMasker(["abc", "xabcx"])("[xabcx]")).toBe("[***]");
  });

  it("masks each line of a multi-line secret", () => {
    const mask = createLogMasker(["-----BEGIN KEY-----\nAAAA\r\n-----END KEY-----"]);
    expect(mask("AAAA")).toBe(MASK);
    expect(mask("x -----END KEY----- y")).toBe(`x ${MASK} y`);
  });

  it("ignores empty and blank values", () => {
    expect(createLogMasker(["", "  "])("nothing to hide")).toBe("nothing to hide");
    expect(createLogMasker(undefined)("nothing")).toBe("nothing");
  });
});
