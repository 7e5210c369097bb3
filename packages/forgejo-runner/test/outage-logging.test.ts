import { createServer } from "node:net";
import type { Writable } from "node:stream";
import { createLogger } from "@solstice/common";
import { ForgejoClient } from "@solstice/forgejo-protocol";
import { eventually } from "@solstice/test-support";
import { describe, expect, it } from "vitest";
import { TaskPoller } from "../src/poller/task-poller.ts";

// A Forgejo outage, as the daemon logs it: the real client against a port nothing listens on, the
// poller, and the services' logger (common's createLogger). The error is a ForgejoRpcError around
// Connect's error around the socket's: each repeats the one below, and the line must say the
// cause once.

/** A local port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("a Forgejo outage in the daemon's log", () => {
  it("says why FetchTask failed once, not once per wrapped error", async () => {
    const port = await closedPort();
    const lines: string[] = [];
    const destination = { write: (line: string) => lines.push(line) } as unknown as Writable;
    const logger = createLogger({ service: "solstice-forgejo-runner", level: "warn", destination });
    const poller = new TaskPoller({
      client: new ForgejoClient({
        instance: `http://127.0.0.1:${port}`,
        credentials: { uuid: "u", token: "t" },
      }),
      logger,
      whenFree: async () => undefined,
      onTask: () => undefined,
      fetchTimeoutMs: 2_000,
    });
    const stop = new AbortController();
    const running = poller.run(stop.signal);
    try {
      await eventually("FetchTask failed logged", () => lines.length > 0, 10_000);
    } finally {
      stop.abort();
      await running;
    }
    const line = JSON.parse(lines[0]!) as {
      msg: string;
      err: { message: string; stack: string; code: string };
    };
    expect(line.msg).toBe("FetchTask failed; backing off");
    expect(line.err.code).toBe("FORGEJO_UNAVAILABLE");
    expect(line.err.message).toBe(`Forgejo FetchTask: unavailable: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(lines[0]!.split("ECONNREFUSED")).toHaveLength(2);
    // The stack still shows every error of the chain, by its type.
    expect(line.err.stack).toMatch(/^ForgejoRpcError\n/);
    expect(line.err.stack).toContain("\ncaused by: ConnectError\n");
  });
});
