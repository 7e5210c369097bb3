import { Code, ForgejoClient, ForgejoRpcError } from "@solstice/forgejo-protocol";
import { ForgejoTestServer } from "@solstice/forgejo-test-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The client against the Forgejo protocol test server: Connect over HTTP/1.1, the runner headers
// on every call after Register, and errors as ForgejoRpcError with a code and a hint.

let server: ForgejoTestServer;
beforeAll(async () => {
  server = await ForgejoTestServer.start();
});
afterAll(async () => {
  await server?.close();
});

describe("ForgejoClient", () => {
  it("pings, registers, then sends x-runner-uuid and x-runner-token with every call", async () => {
    const anonymous = new ForgejoClient({ instance: `${server.url}/` });
    expect(await anonymous.ping("hi")).toContain("hi");
    const runner = await anonymous.register({
      name: "client-test",
      token: server.createRegistrationToken(),
      version: "1.0",
      labels: ["a", "b"],
    });
    anonymous.close();
    expect(runner.uuid).not.toBe("");
    const client = new ForgejoClient({
      instance: server.url,
      credentials: { uuid: runner.uuid, token: runner.token },
    });
    const declared = await client.declare("1.1", ["a", "c"]);
    expect(declared?.labels).toEqual(["a", "c"]);
    const fetched = await client.fetchTask(0n);
    expect(fetched.task).toBeUndefined();
    expect(fetched.tasksVersion).toBeGreaterThan(0n);
    expect(server.calls.filter((c) => c.procedure === "FetchTask").at(-1)?.runnerUuid).toBe(runner.uuid);
    client.close();
  });

  it("turns refusals into ForgejoRpcError with the procedure, the code and what to do", async () => {
    const stranger = new ForgejoClient({
      instance: server.url,
      credentials: { uuid: "nope", token: "nope" },
    });
    const error = await stranger.fetchTask(0n).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForgejoRpcError);
    const rpc = error as ForgejoRpcError;
    expect(rpc.procedure).toBe("FetchTask");
    expect(rpc.rpcCode).toBe(Code.Unauthenticated);
    expect(rpc.isAuthFailure).toBe(true);
    expect(rpc.code).toBe("FORGEJO_UNAUTHENTICATED");
    expect(rpc.message).toBe("Forgejo FetchTask: unauthenticated: unregistered runner");
    expect(rpc.hint).toContain("register it again");
    const bad = await new ForgejoClient({ instance: server.url })
      .register({ name: "x", token: "wrong", version: "1", labels: [] })
      .then(
        () => undefined,
        (e: unknown) => e as ForgejoRpcError,
      );
    expect(bad).toBeInstanceOf(ForgejoRpcError);
    expect(bad?.rpcCode).toBe(Code.InvalidArgument);
    expect(bad?.hint).toContain("registration token");
    stranger.close();
  });

  it("reports an unreachable instance as unavailable", async () => {
    const gone = new ForgejoClient({ instance: "http://127.0.0.1:9", timeoutMs: 2000 });
    const error = (await gone.ping("x").catch((e: unknown) => e)) as ForgejoRpcError;
    expect(error.rpcCode).toBe(Code.Unavailable);
    expect(error.hint).toContain("reachable");
    gone.close();
  });
});
