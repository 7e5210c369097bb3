// HTTP Basic credentials, and which of them is the token: Forgejo's basic-auth method takes the
// password as the token, or the user name when the password is empty or `x-oauth-basic` (as
// GitHub clients send it).

/** The token carried by an `Authorization: Basic ...` header, if any. */
export function basicAuthToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^basic\s+(\S+)$/i.exec(authorization.trim());
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1] ?? "", "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  const token = password === "" || password === "x-oauth-basic" ? username : password;
  return token === "" ? undefined : token;
}
