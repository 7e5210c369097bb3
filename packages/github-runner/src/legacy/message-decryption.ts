import { constants, createDecipheriv, type KeyObject, privateDecrypt } from "node:crypto";
import { GitHubResponseError } from "../errors.ts";

// Legacy sessions are encrypted, as the reference runner's MessageListener.DecryptMessage reads
// them: the session's `encryptionKey.value` is an AES key wrapped with the runner's RSA public
// key (OAEP with SHA-1, or SHA-256 when the session says `useFipsEncryption`); each message body
// is base64 AES-CBC (PKCS#7) ciphertext under that key and the message's own `iv`. A message
// without an `iv` is not encrypted. `byte[]` fields arrive base64, as .NET writes them.

/** TaskAgentSessionKey. */
export interface SessionKeyJson {
  readonly encrypted?: boolean | null | undefined;
  readonly value?: string | null | undefined;
}

/** The session's AES key; `undefined` when the session has none (messages in clear). */
export function sessionKey(
  encryptionKey: SessionKeyJson | null | undefined,
  runnerKey: KeyObject,
  useFipsEncryption: boolean,
): Buffer | undefined {
  const value = encryptionKey?.value;
  if (value === undefined || value === null || value === "") return undefined;
  const raw = Buffer.from(value, "base64");
  if (encryptionKey?.encrypted !== true) return checkAesKey(raw);
  try {
    return checkAesKey(
      privateDecrypt(
        {
          key: runnerKey,
          padding: constants.RSA_PKCS1_OAEP_PADDING,
          oaepHash: useFipsEncryption ? "sha256" : "sha1",
        },
        raw,
      ),
    );
  } catch (error) {
    throw new GitHubResponseError(
      "create session",
      `the session key cannot be decrypted with this runner's key (${(error as Error).message})`,
      { cause: error },
    );
  }
}

function checkAesKey(key: Buffer): Buffer {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32)
    throw new GitHubResponseError("create session", `a ${key.length}-byte session key is not an AES key`);
  return key;
}

/** A message body decrypted; `body` as is when there is no `iv` or no key. */
export function decryptMessageBody(
  body: string,
  iv: string | null | undefined,
  key: Buffer | undefined,
): string {
  if (key === undefined || iv === undefined || iv === null || iv === "") return body;
  try {
    const decipher = createDecipheriv(`aes-${key.length * 8}-cbc`, key, Buffer.from(iv, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
  } catch (error) {
    throw new GitHubResponseError(
      "get message",
      `the message body cannot be decrypted with the session key (${(error as Error).message})`,
      { cause: error },
    );
  }
}
