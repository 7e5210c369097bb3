import { describe, expect, it } from "vitest";
import { LogMasker, unescapeCommandData } from "../src/index.ts";

describe("LogMasker", () => {
  it("masks every occurrence of every value", () => {
    const masker = new LogMasker(["s3cret", "t0ken"]);
    expect(masker.maskLine("a s3cret and s3cret and t0ken")).toBe("a *** and *** and ***");
    expect(masker.maskLine("nothing here")).toBe("nothing here");
    expect(masker.size).toBe(2);
  });

  it("masks each line of a multi-line value, and the whole in multi-line text", () => {
    const masker = new LogMasker(["-----BEGIN KEY-----\r\nMIIEabc\n-----END KEY-----\n"]);
    expect(masker.maskLine("-----BEGIN KEY-----")).toBe("***");
    expect(masker.maskLine("  MIIEabc")).toBe("  ***");
    expect(masker.mask("key:\n-----BEGIN KEY-----\nMIIEabc\n-----END KEY-----\ndone")).toBe(
      "key:\n***\ndone",
    );
  });

  it("never leaves a piece of overlapping or adjacent secrets", () => {
    const masker = new LogMasker(["abcdef", "defgh"]);
    // Replacing "abcdef" first would leave "gh", the tail of "defgh".
    expect(masker.mask("xxabcdefghyy")).toBe("xx***yy");
    expect(masker.mask("defghabcdef")).toBe("***");
    const nested = new LogMasker(["pass", "password123"]);
    expect(nested.mask("password123 pass")).toBe("*** ***");
    // A value whose occurrences overlap themselves.
    expect(new LogMasker(["aba"]).mask("ababa!")).toBe("***!");
  });

  it("treats regex special characters literally", () => {
    const masker = new LogMasker(["a.b*c", "(x|y)+", "$1\\n"]);
    expect(masker.mask("a.b*c aXbc (x|y)+ xy $1\\n")).toBe("*** aXbc *** xy ***");
  });

  it("ignores empty and whitespace-only values, trims the others, and masks short ones", () => {
    const masker = new LogMasker(["", "   ", "\n\n", "  padded  ", "x"]);
    expect(masker.size).toBe(2);
    expect(masker.mask("a padded x")).toBe("a *** ***");
    // A higher floor when a runner wants one.
    const floor = new LogMasker(["ab", "abc"], { minLength: 3 });
    expect(floor.mask("ab abc")).toBe("ab ***");
  });

  it("registers ::add-mask:: values from then on, and hides the command's value", () => {
    const masker = new LogMasker();
    expect(masker.maskLine("before hunter2")).toBe("before hunter2");
    expect(masker.maskLine("::add-mask::hunter2")).toBe("::add-mask::***");
    expect(masker.maskLine("after hunter2")).toBe("after ***");
    expect(masker.maskLine("##[add-mask]old-style")).toBe("##[add-mask]***");
    expect(masker.maskLine("old-style is masked")).toBe("*** is masked");
    expect(masker.maskLine("  ::add-mask::indented-value")).toBe("  ::add-mask::***");
    expect(masker.maskLine("indented-value")).toBe("***");
  });

  it("unescapes an add-mask value and masks each of its lines", () => {
    const masker = new LogMasker();
    expect(masker.maskLine("::add-mask::line-one%0Aline-two%25")).toBe("::add-mask::***");
    expect(masker.mask("line-one")).toBe("***");
    expect(masker.mask("line-two%")).toBe("***");
    expect(unescapeCommandData("a%0D%0Ab%25%0a")).toBe("a\r\nb%\n");
  });

  it("leaves an empty add-mask alone and does not treat a mid-line command as one", () => {
    const masker = new LogMasker(["known"]);
    expect(masker.maskLine("::add-mask::")).toBe("::add-mask::");
    expect(masker.maskLine("::add-mask::   ")).toBe("::add-mask::   ");
    expect(masker.maskLine("echo ::add-mask::not-a-command")).toBe("echo ::add-mask::not-a-command");
    expect(masker.maskLine("not-a-command")).toBe("not-a-command");
    // A secret inside an add-mask line is hidden too (the whole value is replaced).
    expect(masker.maskLine("::add-mask::known-and-more")).toBe("::add-mask::***");
    expect(masker.size).toBe(2);
  });
});
