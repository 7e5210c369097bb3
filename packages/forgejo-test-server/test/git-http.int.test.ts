import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Result } from "@solstice/forgejo-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForgejoTestServer } from "../src/index.ts";
import { git, makeRepository, registerRunner, simpleWorkflow, tempDir } from "./test-server-support.ts";

// Git over HTTP with the host's git: clones of a public repository without credentials, of a
// private one only with the token of a task running for it, as Forgejo's checkout needs.

let server: ForgejoTestServer;
let dir: { path: string; remove: () => Promise<void> };
let publicSha: string;
let privateSha: string;

beforeAll(async () => {
  dir = await tempDir("git");
  server = await ForgejoTestServer.start();
  const open = await makeRepository(dir.path, "open-src", { "README.md": "public readme\n" });
  const closed = await makeRepository(dir.path, "closed-src", { "secret.txt": "private content\n" });
  // One served from a bare repository, one from a work tree.
  await git(["clone", "-q", "--bare", open.path, join(dir.path, "open.git")]);
  server.addRepository("acme/open", join(dir.path, "open.git"));
  server.addRepository("acme/closed", closed.path, { private: true });
  publicSha = open.sha;
  privateSha = closed.sha;
});

afterAll(async () => {
  await server?.close();
  await dir?.remove();
});

/** `http://user:token@host:port/path`. */
function urlWith(path: string, token?: string): string {
  const url = new URL(path, server.url);
  if (token !== undefined) {
    url.username = "x-access-token";
    url.password = token;
  }
  return url.toString();
}

/** GET `path` with the token as HTTP Basic password, as actions/checkout sends it. */
function fetchWithToken(path: string, token: string): Promise<Response> {
  const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
  return fetch(urlWith(path), { headers: { authorization: `Basic ${basic}` } });
}

/** The error text of a git command that must fail. */
async function gitFailure(args: string[]): Promise<string> {
  try {
    await git(args);
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
  throw new Error(`git ${args.join(" ")} succeeded`);
}

describe("git over HTTP", () => {
  it("clones a public repository without credentials, at /owner/name.git and /owner/name", async () => {
    const target = join(dir.path, "clone-open");
    await git(["clone", "-q", urlWith("/acme/open.git"), target]);
    expect(await readFile(join(target, "README.md"), "utf8")).toBe("public readme\n");
    expect(await git(["-C", target, "rev-parse", "HEAD"])).toBe(publicSha);
    expect(await git(["ls-remote", urlWith("/acme/open"), "refs/heads/main"])).toBe(
      `${publicSha}\trefs/heads/main`,
    );
  });

  it("asks for credentials for a private repository: 401 with WWW-Authenticate: Basic", async () => {
    const response = await fetch(urlWith("/acme/closed.git/info/refs?service=git-upload-pack"));
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Basic/);
    const failure = await gitFailure([
      "clone",
      "-q",
      urlWith("/acme/closed.git"),
      join(dir.path, "no-token"),
    ]);
    expect(failure).toMatch(/401|Authentication failed|could not read Username/);
  });

  it("clones a private repository with the token of a task running for it, and only while it runs", async () => {
    const runner = await registerRunner(server, ["linux"]);
    const task = server.addTask({ workflow: simpleWorkflow("linux"), repository: "acme/closed" });
    expect(task.context.sha).toBe(privateSha);
    // Not running yet: the token opens nothing.
    const waiting = await fetchWithToken("/acme/closed.git/info/refs?service=git-upload-pack", task.token);
    expect(waiting.status).toBe(401);

    await runner.client.fetchTask({ tasksVersion: 0n });
    const target = join(dir.path, "clone-closed");
    await git(["clone", "-q", urlWith("/acme/closed.git", task.token), target]);
    expect(await readFile(join(target, "secret.txt"), "utf8")).toBe("private content\n");
    // The token as the user name with an empty password works too (Forgejo's basic auth).
    const asUser = await fetch(urlWith("/acme/closed/info/refs?service=git-upload-pack"), {
      headers: { authorization: `Basic ${Buffer.from(`${task.token}:`).toString("base64")}` },
    });
    expect(asUser.status).toBe(200);
    expect(asUser.headers.get("content-type")).toBe("application/x-git-upload-pack-advertisement");

    await runner.client.updateTask({ state: { id: task.id, result: Result.SUCCESS } });
    const after = await fetchWithToken("/acme/closed.git/info/refs?service=git-upload-pack", task.token);
    expect(after.status).toBe(401);
  });

  it("refuses a task token of another repository (403), pushes, and unknown repositories (404)", async () => {
    const runner = await registerRunner(server, ["other"]);
    const task = server.addTask({ workflow: simpleWorkflow("other"), repository: "acme/open" });
    await runner.client.fetchTask({ tasksVersion: 0n });
    const foreign = await fetchWithToken("/acme/closed.git/info/refs?service=git-upload-pack", task.token);
    expect(foreign.status).toBe(403);
    // A public repository reads with any running task's token.
    const open = await fetchWithToken("/acme/open.git/info/refs?service=git-upload-pack", task.token);
    expect(open.status).toBe(200);
    const push = await fetch(urlWith("/acme/open.git/info/refs?service=git-receive-pack"));
    expect(push.status).toBe(401);
    const pushWithToken = await fetchWithToken(
      "/acme/open.git/info/refs?service=git-receive-pack",
      task.token,
    );
    expect(pushWithToken.status).toBe(403);
    const unknown = await fetch(urlWith("/acme/nothing.git/info/refs?service=git-upload-pack"));
    expect(unknown.status).toBe(404);
  });
});
