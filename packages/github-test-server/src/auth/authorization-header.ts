// The credentials an `Authorization` header carries, by scheme. GitHub's REST API takes a PAT
// or an installation token as `token X`, `Bearer X` or Basic (the reference runner sends
// `basic base64("github:" + PAT)`); the runner-admin endpoints take `RemoteAuth <token>`.

/** What a header carries. */
export type Credentials =
  | { readonly scheme: "bearer" | "token" | "remoteauth"; readonly value: string }
  | { readonly scheme: "basic"; readonly user: string; readonly value: string };

/** The credentials in an `Authorization` header; `undefined` when none or unreadable. */
export function parseAuthorization(header: string | undefined): Credentials | undefined {
  if (header === undefined) return undefined;
  const match = /^(\S+)\s+(\S+)\s*$/.exec(header.trim());
  if (match === null) return undefined;
  const scheme = (match[1] ?? "").toLowerCase();
  const value = match[2] ?? "";
  if (scheme === "bearer" || scheme === "token" || scheme === "remoteauth") return { scheme, value };
  if (scheme !== "basic") return undefined;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  // As GitHub: the password is the token; `token:x-oauth-basic` puts it in the user name.
  const token = password === "" || password === "x-oauth-basic" ? user : password;
  return token === "" ? undefined : { scheme: "basic", user, value: token };
}

/** The token of a PAT-style header (`token`, `Bearer` or Basic). */
export function apiToken(header: string | undefined): string | undefined {
  const credentials = parseAuthorization(header);
  if (credentials === undefined || credentials.scheme === "remoteauth") return undefined;
  return credentials.value;
}

/** The token of a `Bearer` header. */
export function bearerToken(header: string | undefined): string | undefined {
  const credentials = parseAuthorization(header);
  return credentials?.scheme === "bearer" ? credentials.value : undefined;
}
