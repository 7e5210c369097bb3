import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  checkIdPrefix,
  IdPrefixError,
  isFullRequestId,
  JobIdAmbiguousError,
  JobIdNotFoundError,
  matchIdPrefix,
} from "../src/api/id-prefix.ts";
import { hostSideUrl, isLocalDirectory } from "../src/git/local-repository.ts";
import { runCiadm } from "./cli-support.ts";

// Short request ids (pure), where `trigger --ref` is resolved, and a local repository for
// `trigger`; the same against a real orchestrator: ciadm-id-prefix.int.test.ts.

const job = (request_id: string, state = "finished") => ({
  request_id,
  state,
  received_at: "2026-12-04T10:00:00.000Z",
});

describe("request id prefixes", () => {
  test("whole ids need no lookup; prefixes are checked", () => {
    expect(isFullRequestId("ABCD1111-0000-4000-8000-000000000001")).toBe(true);
    expect(isFullRequestId("abcd1111")).toBe(false);
    expect(checkIdPrefix(" ABCD ")).toBe("abcd");
    expect(() => checkIdPrefix("abc")).toThrow(IdPrefixError);
    expect(() => checkIdPrefix("xyz1")).toThrow(/not a request id or a prefix of one/);
  });

  test("one match, none, several (listed)", () => {
    const jobs = [job("abcd1111-0"), job("abcd2222-0", "running"), job("ef01-0")];
    expect(matchIdPrefix("ef01", jobs)).toBe("ef01-0");
    expect(matchIdPrefix("abcd1", jobs)).toBe("abcd1111-0");
    expect(() => matchIdPrefix("9999", jobs)).toThrow(new JobIdNotFoundError("9999", 3));
    try {
      matchIdPrefix("abcd", jobs);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(JobIdAmbiguousError);
      expect((error as Error).message).toBe(
        "2 jobs' request ids start with abcd:\n" +
          "  abcd1111-0  finished  received 2026-12-04T10:00:00.000Z\n" +
          "  abcd2222-0  running  received 2026-12-04T10:00:00.000Z",
      );
    }
  });
});

describe("trigger: where refs are resolved, local repositories", () => {
  test("a guest's 10.0.2.2 is this host's 127.0.0.1; other URLs are unchanged", () => {
    expect(hostSideUrl("git://10.0.2.2:9418/repo")).toBe("git://127.0.0.1:9418/repo");
    expect(hostSideUrl("http://user@10.0.2.2/x.git")).toBe("http://user@127.0.0.1/x.git");
    expect(hostSideUrl("https://10.0.2.20/x.git")).toBe("https://10.0.2.20/x.git");
    expect(hostSideUrl("https://example.org/10.0.2.2")).toBe("https://example.org/10.0.2.2");
  });

  test("a directory is local; a URL is not", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ciadm-local-"));
    try {
      expect(await isLocalDirectory(dir)).toBe(true);
      expect(await isLocalDirectory(join(dir, "none"))).toBe(false);
      expect(await isLocalDirectory("https://example.org/x.git")).toBe(false);
      const r = await runCiadm(["trigger", "--repo", dir, "--step", "true"], { timeoutMs: 90_000 });
      expect(r.stderr).toContain(
        "is a directory: ciadm serves it to the guest only while it waits for the job",
      );
      expect(r.stderr).toContain("hint: add --wait");
      expect(r.code).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
