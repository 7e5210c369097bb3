import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { generateEphemeralKeyPair } from "../src/ssh/ssh-keys.ts";
import { VmCredentials } from "../src/vm/vm-credentials.ts";

describe("VmCredentials", () => {
  const keys = generateEphemeralKeyPair("solstice-test");
  const make = () => new VmCredentials({ user: "root", ...keys });

  it("never shows the private key in JSON, inspect or string form", () => {
    const credentials = make();
    const handle = { name: "job-1", credentials };
    for (const text of [JSON.stringify(handle), inspect(handle, { depth: 5 }), String(credentials)]) {
      expect(text).not.toContain("PRIVATE KEY");
      expect(text).not.toContain(keys.privateKey.split("\n")[1]!);
      expect(text).toContain(keys.fingerprint);
    }
    expect(JSON.parse(JSON.stringify(handle)).credentials.privateKey).toBe("[redacted]");
  });

  it("hands the key to the SSH client until it is forgotten", () => {
    const credentials = make();
    expect(credentials.privateKey()).toBe(keys.privateKey);
    expect(credentials.held).toBe(true);
    credentials.forget();
    expect(credentials.held).toBe(false);
    expect(() => credentials.privateKey()).toThrow(/forgotten/);
  });
});
