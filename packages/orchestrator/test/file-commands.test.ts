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
  stepFileCommands,
} from "../src/exec/file-commands.ts";
import { guestLayout } from "../src/exec/guest-layout.ts";

const run = promisify(execFile);

describe("file commands", () => {
  it("parses NAME=value and heredoc values with the Actions runner's rules", () => {
    const text = "v=1.2\nempty=\n\nnotes<<EOF\nline one\n\nline=three\nEOF\nv=1.3\r\nx<<A=B\nA=B\n";
    expect(parseKeyValueFile(text, "GITHUB_OUTPUT")).toEqual({
      values: { v: "1.3", empty: "", notes: "line one\n\nline=three", x: "" },
      errors: [],
    });
  });

  it("names the file and line of a malformed entry", () => {
    expect(parseKeyValueFile("=x\njunk\nname<<\n", "GITHUB_ENV").errors).toEqual([
      'GITHUB_ENV line 1: a name is required before "="',
      'GITHUB_ENV line 2: expected NAME=value or NAME<<DELIMITER, got "junk"',
      'GITHUB_ENV line 3: "NAME<<DELIMITER" needs both a name and a delimiter',
    ]);
    expect(parseKeyValueFile("a<<END\nnever ends\n", "GITHUB_OUTPUT").errors).toEqual([
      'GITHUB_OUTPUT line 1: the delimiter "END" of a never comes',
    ]);
  });

  it("reads GITHUB_PATH lines", () => {
    expect(parsePathFile("/opt/a/bin\n\n  /opt/b \n")).toEqual(["/opt/a/bin", "/opt/b"]);
  });

  it("reads the files back with the host's sh exactly, multi-byte text included", async () => {
    const dir = await mkdtemp(join(tmpdir(), "file-commands-"));
    try {
      const files = stepFileCommands(
        guestLayout(dir).runDir === "" ? guestLayout(dir) : { ...guestLayout(dir), runDir: dir },
        3,
      );
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
});
