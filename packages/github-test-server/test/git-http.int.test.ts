import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitHubTestServer } from "../src/index.ts";
import { accessToken, call, createSession, getMessage, registerRunner } from "./runner-client.ts";

// Git over HTTP as actions/checkout uses it: a private repository cloned with the job's token
// as `x-access-token` Basic credentials, only while the job runs.

const run = promisify(execFile);
let server: GitHubTestServer;
let dir: string;

async function git(args: string[]): Promise<string> {
  const { stdout } = await run(
    "git",
    ["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "credential.helper=", ...args],
    {
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
    },
  );
  return stdout.trim();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "solstice-gh-test-server-git-"));
  await git(["init", "-q", "-b", "main", join(dir, "src")]);
  await writeFile(join(dir, "src", "secret.txt"), "private content\n");
  await git(["-C", join(dir, "src"), "add", "-A"]);
  await git(["-C", join(dir, "src"), "commit", "-q", "-m", "initial"]);
  server = await GitHubTestServer.start({ messageHoldMs: 200 });
  server.addRepository("acme/closed", { gitDir: join(dir, "src"), private: true });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("git over HTTP", () => {
  it("clones a private repository with the token of a job running for it", async () => {
    const refs = `${server.publicUrl}/acme/closed.git/info/refs?service=git-upload-pack`;
    const anonymous = await fetch(refs);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic/);

    const auth = await registerRunner(server, "acme/closed", server.createPersonalAccessToken(), {
      labels: ["omnios"],
    });
    const token = await accessToken(auth);
    const sessionId = await createSession(auth, token);
    const job = await server.addJob({
      repository: "acme/closed",
      workflowYaml:
        "on: push\njobs:\n  a:\n    runs-on: omnios\n    steps:\n      - uses: actions/checkout@v4\n",
    });
    const message = await getMessage(auth, token, sessionId);
    const ref = JSON.parse((message.body as { body: string }).body) as { runner_request_id: string };
    await call(`${server.urls.runService}acquirejob`, {
      headers: { authorization: `Bearer ${token}` },
      body: { jobMessageId: ref.runner_request_id },
    });
    const jobToken = server.job(job.id).token ?? "";
    const url = new URL("/acme/closed.git", server.publicUrl);
    url.username = "x-access-token";
    url.password = jobToken;
    await git(["clone", "-q", url.toString(), join(dir, "clone")]);
    expect(await readFile(join(dir, "clone", "secret.txt"), "utf8")).toBe("private content\n");
    expect(server.job(job.id).message).toMatchObject({ contextData: { github: expect.anything() } });
    const push = await fetch(`${server.publicUrl}/acme/closed.git/info/refs?service=git-receive-pack`, {
      headers: { authorization: `Basic ${Buffer.from(`x-access-token:${jobToken}`).toString("base64")}` },
    });
    expect(push.status).toBe(403);
    expect((await fetch(`${server.publicUrl}/acme/none.git/info/refs?service=git-upload-pack`)).status).toBe(
      404,
    );
  });
});
