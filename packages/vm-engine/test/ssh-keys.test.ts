import { execFile } from "node:child_process";
import { createPublicKey, verify } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { utils } from "ssh2";
import { describe, expect, it } from "vitest";
import { generateEphemeralKeyPair } from "../src/ssh/ssh-keys.ts";

const run = promisify(execFile);

describe("generateEphemeralKeyPair", () => {
  it("makes an ssh-ed25519 public key line and an OpenSSH private key", () => {
    const keys = generateEphemeralKeyPair("solstice-job-1234");
    expect(keys.publicKey).toMatch(
      /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} solstice-job-1234$/,
    );
    expect(keys.privateKey.startsWith("-----BEGIN OPENSSH PRIVATE KEY-----\n")).toBe(true);
    expect(keys.privateKey.endsWith("\n-----END OPENSSH PRIVATE KEY-----\n")).toBe(true);
    for (const line of keys.privateKey.trim().split("\n")) expect(line.length).toBeLessThanOrEqual(70);
    expect(keys.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it("makes a different key each time", () => {
    const a = generateEphemeralKeyPair("a");
    const b = generateEphemeralKeyPair("a");
    expect(a.publicKey).not.toBe(b.publicKey);
    expect(a.privateKey).not.toBe(b.privateKey);
  });

  it("is accepted by ssh2, whose public key and signatures match", () => {
    const keys = generateEphemeralKeyPair("solstice-ssh2");
    const parsed = utils.parseKey(keys.privateKey);
    if (parsed instanceof Error) throw parsed;
    const key = Array.isArray(parsed) ? parsed[0]! : parsed;
    expect(key.type).toBe("ssh-ed25519");
    expect(key.comment).toBe("solstice-ssh2");
    expect(key.isPrivateKey()).toBe(true);
    const blob = keys.publicKey.split(" ")[1]!;
    expect(key.getPublicSSH().toString("base64")).toBe(blob);

    // A signature made by ssh2 with the private key verifies against our public key.
    const data = Buffer.from("solstice");
    const signature = key.sign(data);
    if (signature instanceof Error) throw signature;
    const raw = Buffer.from(blob, "base64").subarray(-32);
    const publicKey = createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") },
      format: "jwk",
    });
    expect(verify(null, data, publicKey, signature)).toBe(true);
  });

  it("is read by ssh-keygen, which derives the same public key and fingerprint", async () => {
    const keys = generateEphemeralKeyPair("solstice-keygen");
    const dir = await mkdtemp(join(tmpdir(), "solstice-ssh-keys-"));
    try {
      await chmod(dir, 0o700);
      const file = join(dir, "id_ed25519");
      await writeFile(file, keys.privateKey, { mode: 0o600 });
      const derived = await run("ssh-keygen", ["-y", "-f", file]).catch((error: unknown) => {
        throw new Error(`ssh-keygen failed (is openssh-client installed?): ${String(error)}`);
      });
      expect(derived.stdout.trim()).toBe(keys.publicKey);
      const fingerprint = await run("ssh-keygen", ["-l", "-E", "sha256", "-f", file]);
      expect(fingerprint.stdout).toContain(keys.fingerprint);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a multi-line comment", () => {
    expect(() => generateEphemeralKeyPair("a\nb")).toThrow(TypeError);
  });

  it("has an empty comment when asked", () => {
    expect(generateEphemeralKeyPair("").publicKey.split(" ")).toHaveLength(2);
  });
});
