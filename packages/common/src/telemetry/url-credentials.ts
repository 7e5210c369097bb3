import { MASK } from "./mask.ts";

// Credentials in URLs (`https://oauth2:<token>@host/...`, `https://<token>@host/...`) are never
// stored or printed. A job's repository URL may carry them for the clone (the engine keeps that
// URL in memory for the run); everything else gets the URL without them (`stripUrlCredentials`)
// or any text with them replaced (`redactUrlCredentials`).

// scheme://userinfo@ — the userinfo ends at the last `@` before the host (a password may hold an
// unescaped `@`), and holds no white space, `/`, `?`, `#`, quote or backslash: the URL ends there.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*):\/\/([^\s/?#"'<>\\]+)@/gi;

/**
 * Whether a URL's userinfo is a credential: with a password, always; a user name alone over HTTP(S)
 * too (a token given as the user name: `https://<token>@github.com/...`), but not elsewhere
 * (`ssh://git@host/...` names the account, it proves nothing).
 */
function isCredential(scheme: string, userinfo: string): boolean {
  return userinfo.includes(":") || /^(?:git\+)?https?$/i.test(scheme);
}

/**
 * `text` with the credentials of every URL in it replaced by `***` (user name too: a token may
 * be the user name). For messages, logs, stored text.
 *
 * @example
 *   redactUrlCredentials("checkout of https://oauth2:s3cret@forge.example/me/app failed")
 *   // "checkout of https://***@forge.example/me/app failed"
 */
export function redactUrlCredentials(text: string): string {
  if (!text.includes("://")) return text;
  return text.replace(URL_USERINFO, (url, scheme: string, userinfo: string) =>
    isCredential(scheme, userinfo) ? `${scheme}://${MASK}@` : url,
  );
}

/**
 * The URL without its credentials, for storing and showing where a job came from.
 *
 * @example
 *   stripUrlCredentials("https://oauth2:s3cret@forge.example/me/app.git") // "https://forge.example/me/app.git"
 */
export function stripUrlCredentials(url: string): string {
  if (!url.includes("://")) return url;
  return url.replace(URL_USERINFO, (match, scheme: string, userinfo: string) =>
    isCredential(scheme, userinfo) ? `${scheme}://` : match,
  );
}

/** Whether `text` holds a URL with credentials. */
export function hasUrlCredentials(text: string): boolean {
  return redactUrlCredentials(text) !== text;
}
