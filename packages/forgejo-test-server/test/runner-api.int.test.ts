// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Actions expressions are written `${{ … }}` in plain strings.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { LogRowSchema, Result, StepStateSchema } from "@solstice/forgejo-protocol";
import { afterEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ForgejoTestServer } from "../src/index.ts";
import {
  pingClient,
  registerRunner,
  rejection,
  runnerClient,
  simpleWorkflow,
} from "./test-server-support.ts";

// The runner API of the test server, driven by a real Connect client as a runner would: the
// checks, codes and acknowledgements Forgejo's own server code gives.

const servers: ForgejoTestServer[] = [];

async function startServer(
  options: Parameters<typeof ForgejoTestServer.start>[0] = {},
): Promise<ForgejoTestServer> {
  const server = await ForgejoTestServer.start(options);
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Resolves once `condition` holds (checked every 10 ms). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

function rows(...contents: string[]) {
  return contents.map((content, i) =>
    create(LogRowSchema, { time: timestampFromDate(new Date(Date.UTC(2025, 0, 1, 0, 0, i))), content }),
  );
}

describe("Ping and registration", () => {
  it("answers Ping without credentials", async () => {
    const server = await startServer();
    expect((await pingClient(server).ping({ data: "runner" })).data).toBe("Hello, runner!");
  });

  it("registers a runner with a registration token and lists it", async () => {
    const server = await startServer();
    const token = server.createRegistrationToken();
    expect(token).toMatch(/^[0-9A-Za-z]{40}$/);
    const { runner } = await runnerClient(server).register({
      name: "builder-1",
      token,
      version: "v9.9.9",
      labels: ["omnios-bloody", "debian"],
    });
    expect(runner).toMatchObject({
      id: 1n,
      name: "builder-1",
      version: "v9.9.9",
      labels: ["omnios-bloody", "debian"],
    });
    expect(runner?.token).toMatch(/^[0-9a-f]{40}$/);
    expect(server.runners()).toEqual([
      expect.objectContaining({
        uuid: runner?.uuid,
        token: runner?.token,
        name: "builder-1",
        ephemeral: false,
      }),
    ]);
    // A registration token serves any number of runners until it is replaced.
    await runnerClient(server).register({ name: "builder-2", token, version: "v1", labels: ["x"] });
    expect(server.runners().map((r) => r.id)).toEqual([1n, 2n]);
  });

  it("refuses a missing name or token, an unknown token and an invalidated one with InvalidArgument", async () => {
    const server = await startServer();
    const client = runnerClient(server);
    const token = server.createRegistrationToken();
    const noName = await rejection(client.register({ name: "", token, version: "v1", labels: ["a"] }));
    expect([noName.code, noName.rawMessage]).toEqual([Code.InvalidArgument, "missing runner token, name"]);
    const noToken = await rejection(client.register({ name: "r", token: "", version: "v1", labels: ["a"] }));
    expect([noToken.code, noToken.rawMessage]).toEqual([Code.InvalidArgument, "missing runner token, name"]);
    const unknown = await rejection(
      client.register({ name: "r", token: "x".repeat(40), version: "v1", labels: [] }),
    );
    expect([unknown.code, unknown.rawMessage]).toEqual([
      Code.InvalidArgument,
      "runner registration token not found",
    ]);

    server.revokeRegistrationToken(token);
    const revoked = await rejection(client.register({ name: "r", token, version: "v1", labels: [] }));
    expect(revoked.code).toBe(Code.InvalidArgument);
    expect(revoked.rawMessage).toBe(
      "runner registration token has been invalidated, please use the latest one",
    );

    // As in Forgejo, a new registration token invalidates the earlier ones.
    const first = server.createRegistrationToken();
    server.createRegistrationToken();
    const replaced = await rejection(client.register({ name: "r", token: first, version: "v1", labels: [] }));
    expect(replaced.rawMessage).toMatch(/invalidated/);
    expect(server.runners()).toHaveLength(0);
    expect(server.calls.filter((c) => c.procedure === "Register").map((c) => c.code)).toEqual([
      "InvalidArgument",
      "InvalidArgument",
      "InvalidArgument",
      "InvalidArgument",
      "InvalidArgument",
    ]);
  });

  it("refuses calls without, with wrong and with revoked credentials: Unauthenticated, HTTP 401", async () => {
    const server = await startServer();
    const runner = await registerRunner(server, ["a"]);
    const anonymous = await rejection(runnerClient(server).fetchTask({ tasksVersion: 0n }));
    expect([anonymous.code, anonymous.rawMessage]).toEqual([Code.Unauthenticated, "unregistered runner"]);
    const wrong = await rejection(
      runnerClient(server, { uuid: runner.uuid, token: "0".repeat(40) }).declare({
        version: "v",
        labels: [],
      }),
    );
    expect(wrong.code).toBe(Code.Unauthenticated);

    await runner.client.fetchTask({ tasksVersion: 0n });
    server.revokeRunner(runner.uuid);
    const revoked = await rejection(runner.client.fetchTask({ tasksVersion: 0n }));
    expect([revoked.code, revoked.rawMessage]).toEqual([Code.Unauthenticated, "unregistered runner"]);
    expect(server.calls.at(-1)).toMatchObject({
      procedure: "FetchTask",
      code: "Unauthenticated",
      runnerUuid: runner.uuid,
    });

    // The same on the wire for a plain JSON client: HTTP 401 with the Connect error body.
    const response = await fetch(`${server.url}/api/actions/runner.v1.RunnerService/FetchTask`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tasksVersion: "0" }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ code: "unauthenticated", message: "unregistered runner" });
  });

  it("serves JSON as well as binary to a registered runner", async () => {
    const server = await startServer();
    const runner = await registerRunner(server, ["a"]);
    const response = await fetch(`${server.url}/api/actions/runner.v1.RunnerService/FetchTask`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-runner-uuid": runner.uuid,
        "x-runner-token": runner.token,
      },
      body: "{}",
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ tasksVersion: "1" });
  });

  it("stores what Declare says and answers with the runner", async () => {
    const server = await startServer();
    const runner = await registerRunner(server, ["old"]);
    const { runner: declared } = await runner.client.declare({
      version: "v2.0.0",
      labels: ["omnios-bloody", "fast"],
    });
    expect(declared).toMatchObject({
      uuid: runner.uuid,
      version: "v2.0.0",
      labels: ["omnios-bloody", "fast"],
    });
    expect(server.runners()[0]).toMatchObject({
      labels: ["omnios-bloody", "fast"],
      version: "v2.0.0",
      declared: { version: "v2.0.0", labels: ["omnios-bloody", "fast"] },
    });
    expect(server.runners()[0]?.lastSeenAt).toBeInstanceOf(Date);
  });
});

describe("FetchTask", () => {
  it("never answers version 0, and only looks for a task when the runner's version differs", async () => {
    const server = await startServer();
    const runner = await registerRunner(server, ["a"]);
    const first = await runner.client.fetchTask({ tasksVersion: 0n });
    expect(first.tasksVersion).toBe(1n);
    expect(first.task).toBeUndefined();
    const again = await runner.client.fetchTask({ tasksVersion: 1n });
    expect([again.tasksVersion, again.task]).toEqual([1n, undefined]);

    server.addTask({ workflow: simpleWorkflow("a") });
    const next = await runner.client.fetchTask({ tasksVersion: 1n });
    expect(next.tasksVersion).toBe(2n);
    expect(next.task?.id).toBe(1n);
  });

  it("gives a task only to a runner holding every runs-on label, oldest task first", async () => {
    const server = await startServer();
    const partial = await registerRunner(server, ["omnios"]);
    const full = await registerRunner(server, ["debian", "omnios", "big"]);
    const workflow = `on: push
jobs:
  build:
    runs-on: [omnios, big]
    steps:
      - run: make
`;
    const older = server.addTask({ workflow });
    const newer = server.addTask({ workflow });
    const none = await partial.client.fetchTask({ tasksVersion: 0n });
    expect(none.task).toBeUndefined();
    const got = await full.client.fetchTask({ tasksVersion: 0n });
    expect(got.task?.id).toBe(older.id);
    expect(server.task(older.id)).toMatchObject({ status: "running", runnerUuid: full.uuid });
    expect(server.task(older.id).state.startedAt).toBeInstanceOf(Date);
    expect(server.task(newer.id).status).toBe("waiting");
  });

  it("needs the runner to reset its version to 0 after a task to see the next one", async () => {
    const server = await startServer();
    const runner = await registerRunner(server, ["a"]);
    server.addTask({ workflow: simpleWorkflow("a") });
    server.addTask({ workflow: simpleWorkflow("a") });
    const first = await runner.client.fetchTask({ tasksVersion: 0n });
    expect(first.task?.id).toBe(1n);
    // Same version as the server's: it does not look, although a task waits.
    const stale = await runner.client.fetchTask({ tasksVersion: first.tasksVersion });
    expect(stale.task).toBeUndefined();
    const reset = await runner.client.fetchTask({ tasksVersion: 0n });
    expect(reset.task?.id).toBe(2n);
  });

  it("holds the call, with fetchHoldMs, until a task arrives", async () => {
    const server = await startServer({ fetchHoldMs: 30_000 });
    const runner = await registerRunner(server, ["a"]);
    const held = runner.client.fetchTask({ tasksVersion: 0n });
    await until(() => server.calls.some((c) => c.procedure === "FetchTask"));
    // A task for other labels moves the version but does not end the hold.
    server.addTask({ workflow: simpleWorkflow("other-label") });
    const task = server.addTask({ workflow: simpleWorkflow("a") });
    const answer = await held;
    expect(answer.task?.id).toBe(task.id);
    expect(answer.tasksVersion).toBe(3n);
  });

  it("sends the single-job payload of a matrix row, the context, secrets, vars and needs", async () => {
    const server = await startServer({ publicUrl: "http://10.0.2.2:{port}" });
    const runner = await registerRunner(server, ["self-hosted", "omnios"]);
    const workflow = `name: CI
run-name: ignored by Forgejo
on: push
env:
  LEVEL: 3
jobs:
  lint:
    runs-on: debian
    steps:
      - run: lint
  test:
    needs: lint
    runs-on: [self-hosted, "\${{ matrix.os }}"]
    timeout-minutes: 10
    strategy:
      matrix:
        os: [omnios, debian]
        go: ["1.21", "1.22"]
    steps:
      - uses: actions/checkout@v4
      - name: Test on \${{ matrix.os }}
        run: go test -tags=\${{ matrix.go }} ./...
`;
    const added = server.addTask({
      workflow,
      jobId: "test",
      matrix: { os: "omnios", go: "1.22" },
      repository: "acme/widget",
      sha: "a".repeat(40),
      secrets: { API_KEY: "s3cret", GITHUB_TOKEN: "overridden" },
      vars: { COLOUR: "blue" },
      needs: { lint: { result: Result.SUCCESS, outputs: { version: "1.2.3" } } },
    });
    expect(added).toMatchObject({
      jobName: "test (1.22, omnios)",
      runsOn: ["self-hosted", "omnios"],
      status: "waiting",
    });

    const { task } = await runner.client.fetchTask({ tasksVersion: 0n });
    expect(task?.id).toBe(added.id);
    const payload = parseYaml(new TextDecoder().decode(task?.workflowPayload)) as Record<string, unknown>;
    expect(payload).toEqual({
      name: "CI",
      on: "push",
      env: { LEVEL: "3" },
      jobs: {
        test: {
          name: "test (1.22, omnios)",
          "runs-on": ["self-hosted", "omnios"],
          steps: [
            { uses: "actions/checkout@v4" },
            { name: "Test on ${{ matrix.os }}", run: "go test -tags=${{ matrix.go }} ./..." },
          ],
          "timeout-minutes": "10",
          strategy: { matrix: { go: ["1.22"], os: ["omnios"] } },
        },
      },
    });
    expect(new TextDecoder().decode(task?.workflowPayload)).toContain('"on": push');

    const port = new URL(server.url).port;
    expect(server.publicUrl).toBe(`http://10.0.2.2:${port}`);
    expect(task?.context).toMatchObject({
      server_url: `http://10.0.2.2:${port}/`,
      api_url: `http://10.0.2.2:${port}/api/v1`,
      repository: "acme/widget",
      repository_owner: "acme",
      repositoryUrl: `http://10.0.2.2:${port}/acme/widget`,
      sha: "a".repeat(40),
      ref: "refs/heads/main",
      ref_name: "main",
      ref_type: "branch",
      event_name: "push",
      job: "test",
      workflow: "ci.yml",
      workflow_ref: "acme/widget/.forgejo/workflows/ci.yml@refs/heads/main",
      run_attempt: "1",
      run_number: "1",
      token: added.token,
      actor: "test-user",
    });
    expect(task?.context?.event).toMatchObject({ ref: "refs/heads/main", after: "a".repeat(40) });
    expect(String(task?.context?.forgejo_runtime_token).split(".")).toHaveLength(3);
    expect(task?.context?.gitea_runtime_token).toBe(task?.context?.forgejo_runtime_token);
    expect(added.token).toMatch(/^[0-9a-f]{40}$/);
    expect(task?.secrets).toEqual({
      API_KEY: "s3cret",
      GITHUB_TOKEN: added.token,
      GITEA_TOKEN: added.token,
      FORGEJO_TOKEN: added.token,
    });
    expect(task?.vars).toEqual({ COLOUR: "blue" });
    expect(task?.needs.lint).toMatchObject({ result: Result.SUCCESS, outputs: { version: "1.2.3" } });
    expect(server.task(added.id).state.steps.map((s) => s.name)).toEqual([
      "actions/checkout@v4",
      "Test on ${{ matrix.os }}",
    ]);
  });
});

describe("UpdateLog", () => {
  async function runningTask(server: ForgejoTestServer) {
    const runner = await registerRunner(server, ["a"]);
    const added = server.addTask({ workflow: simpleWorkflow("a") });
    await runner.client.fetchTask({ tasksVersion: 0n });
    return { runner, taskId: added.id };
  }

  it("acknowledges as Forgejo: writes only rows past the acknowledged index, ignores gaps and repeats", async () => {
    const server = await startServer();
    const { runner, taskId } = await runningTask(server);
    const log = (index: bigint, contents: string[]) =>
      runner.client.updateLog({ taskId, index, rows: rows(...contents), noMore: false });

    expect((await log(0n, [])).ackIndex).toBe(0n);
    // A gap: rows starting past what the server holds are not written.
    expect((await log(2n, ["x", "y"])).ackIndex).toBe(0n);
    expect((await log(0n, ["r0", "r1", "r2"])).ackIndex).toBe(3n);
    // Resent from an older index: only the rows past 3 are appended.
    expect((await log(1n, ["r1", "r2", "r3", "r4"])).ackIndex).toBe(5n);
    // Everything already held.
    expect((await log(2n, ["r2", "r3", "r4"])).ackIndex).toBe(5n);
    expect((await log(5n, ["r5"])).ackIndex).toBe(6n);

    const task = server.task(taskId);
    expect(task.rows.map((r) => r.content)).toEqual(["r0", "r1", "r2", "r3", "r4", "r5"]);
    expect(task.rows[1]?.time).toEqual(new Date(Date.UTC(2025, 0, 1, 0, 0, 1)));
    expect(typeof task.rows[0]?.receivedAt).toBe("number");
    expect([task.logArchived, task.noMore]).toEqual([false, false]);
  });

  it("archives the log on no_more with rows, then answers AlreadyExists to new rows", async () => {
    const server = await startServer();
    const { runner, taskId } = await runningTask(server);
    await runner.client.updateLog({ taskId, index: 0n, rows: rows("a", "b"), noMore: false });
    const last = await runner.client.updateLog({
      taskId,
      index: 0n,
      rows: rows("a", "b", "c"),
      noMore: true,
    });
    expect(last.ackIndex).toBe(3n);
    expect(server.task(taskId)).toMatchObject({ logArchived: true, noMore: true });

    const late = await rejection(
      runner.client.updateLog({ taskId, index: 3n, rows: rows("d"), noMore: false }),
    );
    expect([late.code, late.rawMessage]).toEqual([Code.AlreadyExists, "log file has been archived"]);
    // Rows already held are acknowledged without an error, as before the archive check.
    const repeat = await runner.client.updateLog({
      taskId,
      index: 0n,
      rows: rows("a", "b", "c"),
      noMore: true,
    });
    expect(repeat.ackIndex).toBe(3n);
    expect(server.task(taskId).rows).toHaveLength(3);
  });

  it("does not archive on a no_more with nothing new to write (Forgejo returns before archiving)", async () => {
    const server = await startServer();
    const { runner, taskId } = await runningTask(server);
    await runner.client.updateLog({ taskId, index: 0n, rows: rows("a"), noMore: false });
    const final = await runner.client.updateLog({ taskId, index: 1n, rows: [], noMore: true });
    expect(final.ackIndex).toBe(1n);
    expect(server.task(taskId)).toMatchObject({ noMore: true, logArchived: false });
  });

  it("refuses the log of another runner's task and of an unknown task (Internal)", async () => {
    const server = await startServer();
    const { taskId } = await runningTask(server);
    const other = await registerRunner(server, ["a"]);
    const foreign = await rejection(
      other.client.updateLog({ taskId, index: 0n, rows: rows("x"), noMore: false }),
    );
    expect([foreign.code, foreign.rawMessage]).toEqual([Code.Internal, "invalid runner for task"]);
    const unknown = await rejection(
      other.client.updateLog({ taskId: 99n, index: 0n, rows: [], noMore: false }),
    );
    expect(unknown.code).toBe(Code.Internal);
    expect(server.task(taskId).rows).toHaveLength(0);
  });
});

describe("UpdateTask", () => {
  async function runningTask(server: ForgejoTestServer, options: { ephemeral?: boolean } = {}) {
    const runner = await registerRunner(server, ["a"], options);
    const added = server.addTask({ workflow: simpleWorkflow("a", 3) });
    await runner.client.fetchTask({ tasksVersion: 0n });
    return { runner, taskId: added.id };
  }

  const at = (second: number) => timestampFromDate(new Date(Date.UTC(2025, 0, 1, 0, 0, second)));

  it("stores step states and outputs, answers UNSPECIFIED while running and the stored output keys", async () => {
    const server = await startServer();
    const { runner, taskId } = await runningTask(server);
    const answer = await runner.client.updateTask({
      state: {
        id: taskId,
        result: Result.UNSPECIFIED,
        startedAt: at(0),
        steps: [
          create(StepStateSchema, {
            id: 0n,
            result: Result.SUCCESS,
            startedAt: at(1),
            stoppedAt: at(2),
            logIndex: 0n,
            logLength: 4n,
          }),
          create(StepStateSchema, {
            id: 1n,
            result: Result.UNSPECIFIED,
            startedAt: at(2),
            logIndex: 4n,
            logLength: 1n,
          }),
        ],
      },
      outputs: { version: "1.0", ["k".repeat(256)]: "too long a key" },
    });
    expect(answer.state).toMatchObject({ id: taskId, result: Result.UNSPECIFIED });
    expect(answer.sentOutputs).toEqual(["version"]);

    const again = await runner.client.updateTask({
      state: { id: taskId, result: Result.UNSPECIFIED },
      outputs: { version: "2.0", size: "big" },
    });
    expect([...again.sentOutputs].sort()).toEqual(["size", "version"]);

    const task = server.task(taskId);
    expect(task.outputs).toEqual({ version: "1.0", size: "big" });
    expect(task.status).toBe("running");
    // The second state left the steps out: a started step counts as running again, as in Forgejo.
    expect(task.state.steps.map((s) => [s.id, s.result, s.logIndex, s.logLength])).toEqual([
      [0, Result.UNSPECIFIED, 0, 4],
      [1, Result.UNSPECIFIED, 4, 1],
      [2, Result.UNSPECIFIED, 0, 0],
    ]);
    expect(task.state.steps[0]?.stoppedAt).toEqual(new Date(Date.UTC(2025, 0, 1, 0, 0, 2)));
    expect(task.updateCount).toBe(2);
  });

  it("finishes the task on a final result and ignores later states", async () => {
    const server = await startServer();
    const { runner, taskId } = await runningTask(server);
    const steps = [0n, 1n, 2n].map((id) =>
      create(StepStateSchema, { id, result: Result.SUCCESS, logIndex: id, logLength: 1n }),
    );
    const final = await runner.client.updateTask({
      state: { id: taskId, result: Result.SUCCESS, stoppedAt: at(9), steps },
    });
    expect(final.state?.result).toBe(Result.SUCCESS);
    const task = server.task(taskId);
    expect(task).toMatchObject({ status: "done", result: Result.SUCCESS });
    expect(task.state.stoppedAt).toEqual(new Date(Date.UTC(2025, 0, 1, 0, 0, 9)));
    expect(task.state.steps.map((s) => s.result)).toEqual([Result.SUCCESS, Result.SUCCESS, Result.SUCCESS]);

    const late = await runner.client.updateTask({ state: { id: taskId, result: Result.FAILURE, steps: [] } });
    expect(late.state?.result).toBe(Result.SUCCESS);
    expect(server.task(taskId)).toMatchObject({ result: Result.SUCCESS, lastReportedResult: Result.FAILURE });
  });

  it("answers CANCELLED once the task is cancelled, and marks its unfinished steps cancelled", async () => {
    const server = await startServer();
    const { runner, taskId } = await runningTask(server);
    await runner.client.updateTask({
      state: {
        id: taskId,
        steps: [
          create(StepStateSchema, { id: 0n, result: Result.SUCCESS, startedAt: at(1), stoppedAt: at(2) }),
        ],
      },
    });
    server.cancelTask(taskId);
    const task = server.task(taskId);
    expect(task).toMatchObject({ status: "done", result: Result.CANCELLED });
    expect(task.state.stoppedAt).toBeInstanceOf(Date);
    expect(task.state.steps.map((s) => s.result)).toEqual([
      Result.SUCCESS,
      Result.CANCELLED,
      Result.CANCELLED,
    ]);

    const answer = await runner.client.updateTask({ state: { id: taskId, result: Result.UNSPECIFIED } });
    expect(answer.state?.result).toBe(Result.CANCELLED);
    const reported = await runner.client.updateTask({ state: { id: taskId, result: Result.CANCELLED } });
    expect(reported.state?.result).toBe(Result.CANCELLED);
    expect(server.task(taskId).lastReportedResult).toBe(Result.CANCELLED);
  });

  it("never hands out a task cancelled while waiting", async () => {
    const server = await startServer();
    const runner = await registerRunner(server, ["a"]);
    const added = server.addTask({ workflow: simpleWorkflow("a") });
    server.cancelTask(added.id);
    expect((await runner.client.fetchTask({ tasksVersion: 0n })).task).toBeUndefined();
    expect(server.task(added.id)).toMatchObject({ status: "done", result: Result.CANCELLED });
  });

  it("refuses the state of another runner's task (Internal)", async () => {
    const server = await startServer();
    const { taskId } = await runningTask(server);
    const other = await registerRunner(server, ["a"]);
    const refused = await rejection(
      other.client.updateTask({ state: { id: taskId, result: Result.SUCCESS } }),
    );
    expect([refused.code, refused.rawMessage]).toEqual([
      Code.Internal,
      "update task: invalid runner for task",
    ]);
    expect(server.task(taskId).status).toBe("running");
  });

  it("deletes an ephemeral runner once its task is done", async () => {
    const server = await startServer();
    const { runner, taskId } = await runningTask(server, { ephemeral: true });
    server.addTask({ workflow: simpleWorkflow("a") });
    expect((await runner.client.fetchTask({ tasksVersion: 0n })).task).toBeUndefined();
    await runner.client.updateTask({ state: { id: taskId, result: Result.SUCCESS } });
    const gone = await rejection(runner.client.fetchTask({ tasksVersion: 0n }));
    expect(gone.code).toBe(Code.Unauthenticated);
  });
});

describe("test controls", () => {
  it("injects failures with failNext and records every call", async () => {
    const server = await startServer();
    const runner = await registerRunner(server, ["a"]);
    const added = server.addTask({ workflow: simpleWorkflow("a") });
    await runner.client.fetchTask({ tasksVersion: 0n });
    server.failNext("UpdateLog", 2);
    server.failNext("FetchTask", 1, Code.Internal);
    const call = () =>
      runner.client.updateLog({ taskId: added.id, index: 0n, rows: rows("a"), noMore: false });
    expect((await rejection(call())).code).toBe(Code.Unavailable);
    expect((await rejection(call())).code).toBe(Code.Unavailable);
    expect((await call()).ackIndex).toBe(1n);
    expect((await rejection(runner.client.fetchTask({ tasksVersion: 0n }))).code).toBe(Code.Internal);
    expect(server.calls.map((c) => [c.procedure, c.code ?? "ok", c.injected ?? false])).toEqual([
      ["Register", "ok", false],
      ["FetchTask", "ok", false],
      ["UpdateLog", "Unavailable", true],
      ["UpdateLog", "Unavailable", true],
      ["UpdateLog", "ok", false],
      ["FetchTask", "Internal", true],
    ]);
    expect(server.calls[2]?.runnerUuid).toBe(runner.uuid);
  });

  it("waitForTask resolves when the condition holds and rejects with the task's state on timeout", async () => {
    const server = await startServer();
    const runner = await registerRunner(server, ["a"]);
    const added = server.addTask({ workflow: simpleWorkflow("a") });
    const running = server.waitForTask(added.id, (t) => t.status === "running");
    await runner.client.fetchTask({ tasksVersion: 0n });
    expect((await running).runnerUuid).toBe(runner.uuid);

    const timeout = await server
      .waitForTask(added.id, (t) => t.status === "done", 50)
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(timeout).toMatchObject({ code: "FORGEJO_TEST_WAIT_TIMEOUT" });
    expect(String((timeout as Error).message)).toMatch(/status running .*result UNSPECIFIED/);
    expect(String((timeout as Error).message)).not.toContain(added.token);
  });
});
