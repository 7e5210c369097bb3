import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { SshPortExhaustedError } from "../src/errors.ts";
import {
  DEFAULT_SSH_PORT_RANGE,
  fnv1a32,
  preferredSshPort,
  sshPortCandidates,
  validateSshPortRange,
} from "../src/vm/ssh-port.ts";
import { isLoopbackPortFree, SshPortAllocator } from "../src/vm/ssh-port-allocator.ts";

describe("fnv1a32", () => {
  // Reference values of 32-bit FNV-1a.
  it.each([
    ["", 0x811c9dc5],
    ["a", 0xe40c292c],
    ["foobar", 0xbf9cf968],
  ])("%j", (text, hash) => {
    expect(fnv1a32(text)).toBe(hash);
  });

  it("hashes the UTF-8 bytes", () => {
    expect(fnv1a32("é")).not.toBe(fnv1a32("e"));
  });
});

describe("preferredSshPort", () => {
  it("is 10022 + fnv1a32(name) % 100 by default", () => {
    const name = "job-1b4e28ba-2fa1-11d2-883f-0016d3cca427";
    expect(preferredSshPort(name)).toBe(10022 + (fnv1a32(name) % 100));
    expect(preferredSshPort(name)).toBe(preferredSshPort(name));
  });

  it("stays within a configured range", () => {
    for (let i = 0; i < 200; i++) {
      const port = preferredSshPort(`vm-${i}`, { base: 20000, size: 7 });
      expect(port).toBeGreaterThanOrEqual(20000);
      expect(port).toBeLessThan(20007);
    }
  });

  it("spreads names over the range", () => {
    const ports = new Set(Array.from({ length: 300 }, (_, i) => preferredSshPort(`job-${i}`)));
    // 300 names into 100 ports: about 95 distinct ports for a uniform hash (90 for these names).
    expect(ports.size).toBeGreaterThanOrEqual(85);
  });
});

describe("sshPortCandidates", () => {
  it("starts at the preferred port and wraps around the whole range", () => {
    const range = { base: 30000, size: 5 };
    const candidates = sshPortCandidates("x", range);
    expect(candidates[0]).toBe(preferredSshPort("x", range));
    expect([...candidates].sort()).toEqual([30000, 30001, 30002, 30003, 30004]);
    const first = candidates[0]! - 30000;
    expect(candidates).toEqual([0, 1, 2, 3, 4].map((i) => 30000 + ((first + i) % 5)));
  });
});

describe("validateSshPortRange", () => {
  it.each([
    { base: 0, size: 10 },
    { base: 65530, size: 10 },
    { base: 10022, size: 0 },
    { base: 10022.5, size: 10 },
  ])("rejects %j", (range) => {
    expect(() => validateSshPortRange(range)).toThrow(RangeError);
  });

  it("accepts the default", () => {
    expect(validateSshPortRange(DEFAULT_SSH_PORT_RANGE)).toBe(DEFAULT_SSH_PORT_RANGE);
  });
});

describe("SshPortAllocator", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function occupy(port: number): Promise<void> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port }, resolve);
    });
    servers.push(server);
  }

  // A high range unlikely to be used by anything else on the machine.
  const range = { base: 47000 + (process.pid % 500) * 4, size: 3 };

  it("gives the preferred port, then skips reserved ones, then runs out", async () => {
    const allocator = new SshPortAllocator(range, { isolated: true });
    const first = await allocator.allocate("same-name");
    expect(first).toBe(preferredSshPort("same-name", range));
    const second = await allocator.allocate("same-name");
    const third = await allocator.allocate("same-name");
    expect(new Set([first, second, third]).size).toBe(3);
    await expect(allocator.allocate("same-name")).rejects.toBeInstanceOf(SshPortExhaustedError);
    allocator.release(second);
    expect(await allocator.allocate("other")).toBe(second);
    expect(allocator.reserved()).toEqual([first, second, third].sort((a, b) => a - b));
  });

  it("skips a port something else listens on", async () => {
    const allocator = new SshPortAllocator(range, { isolated: true });
    const preferred = preferredSshPort("busy", range);
    await occupy(preferred);
    expect(await isLoopbackPortFree(preferred)).toBe(false);
    const port = await allocator.allocate("busy");
    expect(port).not.toBe(preferred);
    expect(await isLoopbackPortFree(port)).toBe(true);
  });

  it("never hands one port to two concurrent allocations", async () => {
    const allocator = new SshPortAllocator(range, { isolated: true });
    const ports = await Promise.all([
      allocator.allocate("a"),
      allocator.allocate("a"),
      allocator.allocate("a"),
    ]);
    expect(new Set(ports).size).toBe(3);
  });

  it("shares reservations between allocators of the process by default", async () => {
    const one = new SshPortAllocator(range);
    const two = new SshPortAllocator(range);
    const first = await one.allocate("shared");
    const second = await two.allocate("shared");
    expect(second).not.toBe(first);
    expect(one.reserved()).toEqual(expect.arrayContaining([first, second]));
    one.release(first);
    one.release(second);
    expect(two.reserved()).not.toContain(first);
    expect(two.reserved()).not.toContain(second);
  });
});
