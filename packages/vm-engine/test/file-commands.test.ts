import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import {
  parseKeyValueFile,
  parsePathFile,
  parseReadBack,
  renderReadBackCommand,
  STEP_SUMMARY_LIMIT_BYTES,
  stepFileCommands,
} from "../src/exec/file-commands.ts";
import { guestLayout } from "../src/exec/guest-layout.ts";

const run = promisify(execFile);

describe("file commands", () => {
  it("parses NAME=value and heredoc values with the Actions runner's rules", () => {
    const text = "v=1.2\nempty=\n\nnotes<<EOF\nline one\n\nline=three\nEOF\nv=1.3\r\nx<<A=B\nA=B\n";
    expect(parseKeyValueFile(text, "GITHUB_OUTPUT")).toEqual({
      values: { v: "1.3", empty: "", notes: "line one\n\nline=three", x: "" },
    });
  });

  it("splits at the first = or <<, whichever comes first, and keeps the rest of the value", () => {
    expect(parseKeyValueFile("a=b=c<<d\nh<<E=F\nx=y\nE=F\nlast=1", "GITHUB_ENV")).toEqual({
      values: { a: "b=c<<d", h: "x=y", last: "1" },
    });
  });

  it("ends a heredoc value at the first line that is exactly its delimiter", () => {
    // A delimiter inside a line, or with spaces around it, is part of the value.
    const text = "v<<END\nnot END here\n END \nEND\nEND=after\n";
    expect(parseKeyValueFile(text, "GITHUB_OUTPUT")).toEqual({
      values: { v: "not END here\n END ", END: "after" },
    });
  });

  it.each([
    ["=x\n", 'GITHUB_ENV line 1: the name before "=" is empty in "=x"'],
    ["ok=1\njunk\nlater=2\n", 'GITHUB_ENV line 2: expected NAME=value or NAME<<DELIMITER, got "junk"'],
    ["\nname<<\n", 'GITHUB_ENV line 2: "NAME<<DELIMITER" needs both a name and a delimiter, got "name<<"'],
    [
      "ok=1\na<<END\nnever ends\n",
      'GITHUB_ENV line 2: the delimiter "END" of a never comes on a line of its own',
    ],
  ])("stops at the first malformed entry %j, naming the file and line", (text, error) => {
    const parsed = parseKeyValueFile(text, "GITHUB_ENV");
    expect(parsed.error).toBe(error);
    // What came before stays set, nothing after is read (the runner throws at that line).
    expect(parsed.values).toEqual(text.startsWith("ok=1") ? { ok: "1" } : {});
  });

  it("reads GITHUB_PATH lines as written, skipping empty ones", () => {
    expect(parsePathFile("/opt/a/bin\n\n/opt/b\r\n/opt/c")).toEqual(["/opt/a/bin", "/opt/b", "/opt/c"]);
  });

  it("reads the files back with the host's sh exactly, multi-byte text included", async () => {
    const dir = await mkdtemp(join(tmpdir(), "file-commands-"));
    try {
      const files = stepFileCommands({ ...guestLayout(dir), runDir: dir }, 3);
      await writeFile(files.GITHUB_OUTPUT, "v=1.2\nname<<EOF\nzoë ✓\nEOF\n");
      await writeFile(files.GITHUB_PATH, "/opt/tool/bin\n");
      await writeFile(files.GITHUB_ENV, "");
      const command = renderReadBackCommand(files);
      const { stdout } = await run("/bin/sh", ["-c", command]);
      const back = parseReadBack(stdout);
      expect(back).toEqual({
        GITHUB_OUTPUT: "v=1.2\nname<<EOF\nzoë ✓\nEOF\n",
        GITHUB_PATH: "/opt/tool/bin\n",
      });
      expect(files.GITHUB_OUTPUT).toBe(join(dir, "step-3.output"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reads GITHUB_STEP_SUMMARY back up to 1 MiB, and only the size of a larger one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "file-commands-"));
    try {
      const files = stepFileCommands({ ...guestLayout(dir), runDir: dir }, 1);
      await writeFile(files.GITHUB_STEP_SUMMARY, "### Results ✓\n");
      await writeFile(files.GITHUB_ENV, "A=1\n");
      const small = parseReadBack((await run("/bin/sh", ["-c", renderReadBackCommand(files)])).stdout);
      expect(small).toEqual({ GITHUB_ENV: "A=1\n", GITHUB_STEP_SUMMARY: "### Results ✓\n" });

      await writeFile(files.GITHUB_STEP_SUMMARY, "x".repeat(STEP_SUMMARY_LIMIT_BYTES + 1));
      const large = parseReadBack(
        (await run("/bin/sh", ["-c", renderReadBackCommand(files)], { maxBuffer: 4 << 20 })).stdout,
      );
      expect(large).toEqual({ GITHUB_ENV: "A=1\n", summaryTooLargeBytes: STEP_SUMMARY_LIMIT_BYTES + 1 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
