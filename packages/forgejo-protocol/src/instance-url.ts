import { ForgejoInstanceUrlError } from "./errors.ts";

/** The path under an instance where Forgejo serves the runner protocol. */
export const ACTIONS_API_PATH = "/api/actions";

/**
 * An instance URL as stored and compared: http(s), no query or fragment, no trailing slash
 * (a sub-path install such as `https://example.org/forgejo` keeps its path).
 *
 * @example
 *   normaliseInstanceUrl("https://codeberg.org/"); // "https://codeberg.org"
 */
export function normaliseInstanceUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new ForgejoInstanceUrlError(text, "not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ForgejoInstanceUrlError(
      text,
      `the scheme must be http or https, not ${url.protocol.slice(0, -1)}`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new ForgejoInstanceUrlError(text, "must not carry credentials");
  }
  if (url.search !== "" || url.hash !== "")
    throw new ForgejoInstanceUrlError(text, "must not have a query or fragment");
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** The Connect base URL of an instance: `<instance>/api/actions`. */
export function actionsApiBaseUrl(instance: string): string {
  return `${normaliseInstanceUrl(instance)}${ACTIONS_API_PATH}`;
}
