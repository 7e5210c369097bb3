import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { formatError } from "../src/run-program.ts";

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("CLI errors name their root cause", () => {
  it("a refused connection: the code and the address, not only 'fetch failed'", async () => {
    const port = await closedPort();
    const error = await fetch(`http://127.0.0.1:${port}/v1/jobs`).catch((e: unknown) => e);
    expect(formatError("ciadm", error)).toBe(`ciadm: fetch failed (ECONNREFUSED 127.0.0.1:${port})\n`);
  });

  it("a host that does not resolve: ENOTFOUND and the host", async () => {
    const error = await fetch("http://no-such-host.invalid/").catch((e: unknown) => e);
    expect(formatError("ciadm", error)).toMatch(
      /^ciadm: fetch failed \((ENOTFOUND|EAI_AGAIN) no-such-host\.invalid\)\n$/,
    );
  });

  it("adds nothing when the message already says it, or there is no cause", () => {
    const inner = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5672"), { code: "ECONNREFUSED" });
    const outer = new Error("cannot reach RabbitMQ: connect ECONNREFUSED 127.0.0.1:5672", { cause: inner });
    expect(formatError("x", outer)).toBe("x: cannot reach RabbitMQ: connect ECONNREFUSED 127.0.0.1:5672\n");
    expect(formatError("x", new Error("plain"))).toBe("x: plain\n");
    expect(formatError("x", new Error("wrapped", { cause: new Error("the reason") }))).toBe(
      "x: wrapped (the reason)\n",
    );
  });
});
