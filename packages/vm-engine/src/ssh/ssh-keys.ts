import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";

// Per-job Ed25519 keys (ADR-003), made in memory. The private key is returned in the OpenSSH
// container format ("openssh-key-v1"), which ssh2 and OpenSSH both read; we build that container
// ourselves because node:crypto only exports PKCS#8. Nothing here logs or writes key material.

/** A fresh key pair. Never log `privateKey`; keep it in memory or in the VM's 0700 directory only. */
export interface EphemeralKeyPair {
  /** `ssh-ed25519 AAAA... comment`, one line, no newline: for authorized_keys / cloud-config. */
  readonly publicKey: string;
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` ... unencrypted, ending in a newline. */
  readonly privateKey: string;
  /** `SHA256:...` as `ssh-keygen -l` prints it (safe to log). */
  readonly fingerprint: string;
}

const KEY_TYPE = "ssh-ed25519";

/**
 * Make an Ed25519 key pair in memory.
 *
 * @example
 *   const keys = generateEphemeralKeyPair(`solstice-${requestId}`);
 *   renderUserData({ sshUser: "root", sshPublicKey: keys.publicKey, job });
 */
export function generateEphemeralKeyPair(comment: string): EphemeralKeyPair {
  if (/[\r\n]/.test(comment)) throw new TypeError("an SSH key comment must be a single line");
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  if (jwk.d === undefined || jwk.x === undefined)
    throw new Error("node:crypto returned an incomplete Ed25519 JWK");
  const seed = Buffer.from(jwk.d, "base64url");
  const pub = Buffer.from(jwk.x, "base64url");
  try {
    return {
      publicKey: formatPublicKey(pub, comment),
      privateKey: formatOpenSshPrivateKey(seed, pub, comment),
      fingerprint: fingerprintOf(pub),
    };
  } finally {
    seed.fill(0);
  }
}

/** `ssh-ed25519 <base64 blob> comment` for a 32-byte public key. */
export function formatPublicKey(pub: Uint8Array, comment: string): string {
  const blob = publicKeyBlob(pub).toString("base64");
  return comment === "" ? `${KEY_TYPE} ${blob}` : `${KEY_TYPE} ${blob} ${comment}`;
}

/** The OpenSSH SHA-256 fingerprint of a 32-byte Ed25519 public key. */
export function fingerprintOf(pub: Uint8Array): string {
  const digest = createHash("sha256").update(publicKeyBlob(pub)).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}

/**
 * The unencrypted OpenSSH private key container (PROTOCOL.key in OpenSSH's sources):
 * magic, cipher "none", kdf "none", empty kdf options, one key, its public blob, then the private
 * section: two equal check ints, key type, public key, seed||public (64 bytes), comment, and
 * padding 1, 2, 3... up to the cipher block size (8 for "none").
 */
export function formatOpenSshPrivateKey(seed: Uint8Array, pub: Uint8Array, comment: string): string {
  if (seed.length !== 32 || pub.length !== 32)
    throw new TypeError("Ed25519 seed and public key are 32 bytes");
  const check = randomBytes(4);
  const privateParts = [
    check,
    check,
    sshString(KEY_TYPE),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ];
  const padLength = (8 - (privateParts.reduce((n, part) => n + part.length, 0) % 8)) % 8;
  const padding = Buffer.from(Array.from({ length: padLength }, (_, i) => i + 1));
  const section = Buffer.concat([...privateParts, padding]);

  const container = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    uint32(1),
    sshString(publicKeyBlob(pub)),
    sshString(section),
  ]);
  const base64 = container.toString("base64");
  // Best effort: wipe our copies of the private half (the returned string cannot be wiped).
  for (const part of privateParts) part.fill(0);
  section.fill(0);
  container.fill(0);
  const lines = base64.match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

function publicKeyBlob(pub: Uint8Array): Buffer {
  return Buffer.concat([sshString(KEY_TYPE), sshString(pub)]);
}

/** An SSH wire "string": uint32 big-endian length, then the bytes. */
function sshString(value: string | Uint8Array): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value);
  return Buffer.concat([uint32(bytes.length), bytes]);
}

function uint32(value: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(value);
  return buf;
}
