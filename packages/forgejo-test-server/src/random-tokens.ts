import { randomBytes, randomInt, timingSafeEqual } from "node:crypto";

// The shapes of Forgejo's secrets, so clients that check them (lengths, hex) see real ones:
// registration tokens are util.CryptoRandomString(40) (alphanumeric); runner and task tokens
// come from generateSaltedToken (20 random bytes, hex: 40 characters).

const ALPHANUMERIC = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** A runner registration token: 40 alphanumeric characters. */
export function newRegistrationToken(): string {
  let token = "";
  for (let i = 0; i < 40; i++) token += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return token;
}

/** A runner or task token: 40 lowercase hex characters. */
export function newHexToken(): string {
  return randomBytes(20).toString("hex");
}

/** Compares two secrets in constant time (for equal lengths). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
