import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Client, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { PingService, RunnerService } from "@solstice/forgejo-protocol";
import type { ForgejoTestServer } from "../src/index.ts";

// Shared setup of the test server's tests: real Connect clients (binary protobuf over HTTP/1.1,
// as the reference runner talks), registered runners, and temporary git repositories.

const run = promisify(execFile);

/** A RunnerService client, sending the runner's headers when given credentials. */
export function runnerClient(
  server: ForgejoTestServer,
  credentials?: { uuid: string; token: string },
): Client<typeof RunnerService> {
  const headers: Interceptor = (next) => async (request) => {
    if (credentials !== undefined) {
      request.header.set("x-runner-uuid", credentials.uuid);
      request.header.set("x-runner-token", credentials.token);
    }
    return next(request);
  };
  const transport = createConnectTransport({
    baseUrl: `${server.url}/api/actions`,
    httpVersion: "1.1",
    useBinaryFormat: true,
    interceptors: [headers],
  });
  return createClient(RunnerService, transport);
}

/** A PingService client. */
export function pingClient(server: ForgejoTestServer): Client<typeof PingService> {
  return createClient(
    PingService,
    createConnectTransport({
      baseUrl: `${server.url}/api/actions`,
      httpVersion: "1.1",
      useBinaryFormat: true,
    }),
  );
}

/** A registered runner and its authenticated client. */
export interface TestRunner {
  readonly id: bigint;
  readonly uuid: string;
  readonly token: string;
  readonly client: Client<typeof RunnerService>;
}

/** Registers a runner with a fresh registration token. */
export async function registerRunner(
  server: ForgejoTestServer,
  labels: string[],
  options: { name?: string; ephemeral?: boolean } = {},
): Promise<TestRunner> {
  const { runner } = await runnerClient(server).register({
    name: options.name ?? "test-runner",
    token: server.createRegistrationToken(),
    version: "v1.0.0-test",
    labels,
    ephemeral: options.ephemeral ?? false,
  });
  if (runner === undefined) throw new Error("Register answered without a runner");
  return {
    id: runner.id,
    uuid: runner.uuid,
    token: runner.token,
    client: runnerClient(server, { uuid: runner.uuid, token: runner.token }),
  };
}

/** The ConnectError a call failed with; fails the test when it succeeded. */
export async function rejection(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** A workflow with one job of `runsOn` and `steps` run steps. */
export function simpleWorkflow(runsOn: string, steps = 2): string {
  const lines = ["on: push", "jobs:", "  build:", `    runs-on: ${runsOn}`, "    steps:"];
  for (let i = 1; i <= steps; i++) lines.push(`      - name: step ${i}`, `        run: echo ${i}`);
  return `${lines.join("\n")}\n`;
}

/** A temporary directory, removed by the returned function. */
export async function tempDir(label: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `solstice-fj-test-server-${label}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Runs git with an identity and no prompts; resolves to stdout. */
export async function git(args: readonly string[], cwd?: string): Promise<string> {
  const { stdout } = await run(
    "git",
    ["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "credential.helper=", ...args],
    { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "" } },
  );
  return stdout.trim();
}

/** A git repository (work tree) at `dir/name` with one commit on `main` holding `files`. */
export async function makeRepository(
  dir: string,
  name: string,
  files: Record<string, string>,
): Promise<{ path: string; sha: string }> {
  const path = join(dir, name);
  await git(["init", "-q", "-b", "main", path]);
  for (const [file, content] of Object.entries(files)) await writeFile(join(path, file), content);
  await git(["-C", path, "add", "-A"]);
  await git(["-C", path, "commit", "-q", "-m", "initial"]);
  return { path, sha: await git(["-C", path, "rev-parse", "HEAD"]) };
}
