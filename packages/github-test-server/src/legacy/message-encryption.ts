import { constants, createCipheriv, type KeyObject, publicEncrypt, randomBytes } from "node:crypto";

// The legacy flow's message encryption, as the server side of the reference runner's
// MessageListener.DecryptMessage: a session gets a fresh AES-256 key, sent wrapped with the
// agent's RSA public key (OAEP, SHA-1 unless the session asked for FIPS: SHA-256) as
// `encryptionKey: {encrypted: true, value: <base64>}`; every message body is then AES-CBC
// (PKCS#7) encrypted with a fresh IV, both base64 as .NET writes `byte[]`: `{iv, body}`.

/** A fresh AES-256 session key. */
export function newSessionKey(): Buffer {
  return randomBytes(32);
}

/** The session key wrapped for the agent: TaskAgentSessionKey's `value`. */
export function wrapSessionKey(key: Buffer, agentPublicKey: KeyObject, useFipsEncryption: boolean): Buffer {
  return publicEncrypt(
    {
      key: agentPublicKey,
      padding: constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: useFipsEncryption ? "sha256" : "sha1",
    },
    key,
  );
}

/** A message body encrypted with the session key: the message's `iv` and `body`, base64. */
export function encryptMessageBody(body: string, key: Buffer): { iv: string; body: string } {
  const iv = randomBytes(16);
  const cipher = createCipheriv(`aes-${key.length * 8}-cbc`, key, iv);
  const encrypted = Buffer.concat([cipher.update(body, "utf8"), cipher.final()]);
  return { iv: iv.toString("base64"), body: encrypted.toString("base64") };
}
