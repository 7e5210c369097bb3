import { posix } from "node:path";
import { redactUrlCredentials } from "../telemetry/url-credentials.ts";
import { shellWord } from "./shell-word.ts";

// `uses: actions/checkout@<any>` → a plain shell step doing what the action does, with git only
// (no Node.js in the guest). The repository is the task's own (or `with.repository` on the same
// server), at the task's commit (or `with.ref`), into `with.path` under the workspace, with
// `with.fetch-depth` commits of history (1 by default, 0 for all).
//
// The token never appears in the script: the step gets the HTTP header git sends,
// `AUTHORIZATION: Basic base64(x-access-token:<token>)` (actions/checkout writes `basic`; RFC 7617's
// `Basic` is what every server accepts: some compare the scheme case-sensitively), in its
// env as SOLSTICE_CHECKOUT_AUTH, and the script hands it to git through GIT_CONFIG_* variables
// (git >= 2.31) — or, with persist-credentials (the default, as in actions/checkout), writes it
// into the repository's .git/config with the shell's printf builtin. Either way it is on no
// command line. The token, its base64 form and the header are returned as values to mask.
//
// The token goes only to the server that issued it: when the runner fetches from a URL of its own
// (`--checkout-url`, a mirror) on another origin (scheme, host or port) than `server_url`, no
// header is given or written, and the step's log says so (the mirror must allow anonymous reads,
// or carry its own credentials in the URL).

/** The name of the step's env variable holding the authorization header. */
export const CHECKOUT_AUTH_VARIABLE = "SOLSTICE_CHECKOUT_AUTH";

/** What the checkout needs to know. */
export interface CheckoutInput {
  /** `with:` inputs, evaluated to strings. */
  readonly with: Readonly<Record<string, string>>;
  /** `github.server_url`, e.g. `https://codeberg.org`. */
  readonly serverUrl: string | undefined;
  /** `github.repository`, `owner/name`. */
  readonly repository: string | undefined;
  /** `github.sha`: the commit of the task. */
  readonly sha: string | undefined;
  /** `github.ref`, e.g. `refs/heads/main`. */
  readonly ref: string | undefined;
  /** The job token (`github.token`), used when `with.token` is not given. */
  readonly token: string | undefined;
  /** Fetch from this URL instead of `<server_url>/<repository>` (e.g. a mirror, or a test server). */
  readonly url?: string | undefined;
}

/** The checkout as a step. */
export interface CheckoutStep {
  readonly run: string;
  readonly env: Readonly<Record<string, string>>;
  /** Values to mask in logs: the token, its base64 form, the header. */
  readonly mask: readonly string[];
  /** `with:` inputs that were ignored. */
  readonly ignored: readonly string[];
}

const HANDLED = new Set([
  "repository",
  "ref",
  "path",
  "fetch-depth",
  "fetch-tags",
  "token",
  "persist-credentials",
  "github-server-url",
]);

const SHA = /^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/;

function flag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value.trim() === "") return fallback;
  return value.trim().toLowerCase() === "true";
}

/** How to fetch and what to check out, for one kind of ref. */
interface FetchPlan {
  readonly describe: string;
  readonly lines: readonly string[];
}

/**
 * The checkout step, or why it cannot be made (a `path` outside the workspace, a bad
 * `fetch-depth`, no repository URL).
 *
 * @example
 *   checkoutStep({ with: { "fetch-depth": "0" }, serverUrl: "https://forge.example",
 *     repository: "me/app", sha, ref: "refs/heads/main", token });
 */
export function checkoutStep(input: CheckoutInput): CheckoutStep | { error: string } {
  const w = input.with;
  const repository = (w["repository"] ?? "").trim() || input.repository;
  const serverUrl = ((w["github-server-url"] ?? "").trim() || input.serverUrl)?.replace(/\/+$/, "");
  const sameRepository = repository === input.repository;
  const url = sameRepository && input.url !== undefined ? input.url : joinUrl(serverUrl, repository);
  if (url === undefined) {
    return {
      error:
        "actions/checkout: the repository URL is not known (github.server_url and github.repository are missing)",
    };
  }

  const depthText = (w["fetch-depth"] ?? "").trim();
  const depth = depthText === "" ? 1 : Number(depthText);
  if (!Number.isInteger(depth) || depth < 0) {
    return { error: `actions/checkout: fetch-depth must be a whole number >= 0, got "${depthText}"` };
  }

  const path = (w["path"] ?? "").trim();
  const normalised = path === "" ? "." : posix.normalize(path);
  if (posix.isAbsolute(normalised) || normalised === ".." || normalised.startsWith("../")) {
    return { error: `actions/checkout: path "${path}" is not under the workspace` };
  }

  const ref = (w["ref"] ?? "").trim();
  const tags = flag(w["fetch-tags"], false) ? "--tags" : "--no-tags";
  const depthFlag = depth === 0 ? "" : ` --depth=${depth}`;
  const fetch = `git fetch -q ${tags}${depthFlag} origin`;
  let plan: FetchPlan;
  if (ref === "" && sameRepository && input.sha !== undefined && SHA.test(input.sha)) {
    plan = commitPlan(input.sha, input.ref, fetch, true);
  } else if (ref === "") {
    plan = {
      describe: "its default branch",
      lines: [`${fetch} HEAD`, "git -c advice.detachedHead=false checkout -q --force --detach FETCH_HEAD"],
    };
  } else if (SHA.test(ref)) {
    plan = commitPlan(ref, undefined, fetch, false);
  } else {
    plan = refPlan(ref, fetch);
  }

  const token = (w["token"] ?? "").trim() || input.token;
  const persist = flag(w["persist-credentials"], true);
  const env: Record<string, string> = {};
  const mask: string[] = [];
  const authLines: string[] = [];
  const origin = serverUrl ?? urlOrigin(url);
  const headerKey = `http.${origin}/.extraheader`;
  const tokenAllowed = serverUrl === undefined || sameOrigin(url, serverUrl);
  if (token !== undefined && token !== "" && !tokenAllowed) {
    mask.push(token);
    authLines.push(
      `echo ${shellWord(`checkout: ${redactUrlCredentials(urlOrigin(url))} is not ${serverUrl}: the job token is not sent to it`)}`,
    );
  } else if (token !== undefined && token !== "") {
    const basic = Buffer.from(`x-access-token:${token}`, "utf8").toString("base64");
    const header = `AUTHORIZATION: Basic ${basic}`;
    env[CHECKOUT_AUTH_VARIABLE] = header;
    mask.push(token, basic, header);
    if (persist) {
      authLines.push(
        `git config --local --unset-all ${shellWord(headerKey)} 2>/dev/null || true`,
        `printf '[http "%s/"]\\n\\textraheader = %s\\n' ${shellWord(origin)} "$${CHECKOUT_AUTH_VARIABLE}" >>.git/config`,
      );
    } else {
      authLines.push(
        `GIT_CONFIG_COUNT=1; GIT_CONFIG_KEY_0=${shellWord(headerKey)}; GIT_CONFIG_VALUE_0="$${CHECKOUT_AUTH_VARIABLE}"`,
        "export GIT_CONFIG_COUNT GIT_CONFIG_KEY_0 GIT_CONFIG_VALUE_0",
      );
    }
  }

  const history = depth === 0 ? "all history" : `depth ${depth}`;
  const run = [
    "# Solstice CI: built-in actions/checkout (git only)",
    "set -e",
    "if ! command -v git >/dev/null 2>&1; then",
    `  echo "checkout: git is not installed in the guest (the image needs git)" >&2`,
    "  exit 127",
    "fi",
    `echo ${shellWord(`checkout: ${repository ?? url} at ${plan.describe} into ${normalised} (${history})`)}`,
    `mkdir -p ${shellWord(normalised)}`,
    `cd ${shellWord(normalised)}`,
    "[ -d .git ] || git init -q .",
    `if git remote get-url origin >/dev/null 2>&1; then git remote set-url origin ${shellWord(url)}; else git remote add origin ${shellWord(url)}; fi`,
    ...authLines,
    ...(depth === 0
      ? [
          'if [ -f "$(git rev-parse --git-dir)/shallow" ]; then unshallow=--unshallow; else unshallow=; fi',
          `git fetch -q --tags --prune $unshallow origin '+refs/heads/*:refs/remotes/origin/*'`,
        ]
      : []),
    ...plan.lines,
    'echo "checkout: HEAD is now at $(git rev-parse HEAD)"',
    "",
  ].join("\n");
  return { run, env, mask, ignored: Object.keys(w).filter((key) => !HANDLED.has(key)) };
}

/**
 * Whether `url` is on the server: the same origin (scheme, host, port), or, for URLs without one
 * (`file://`), under the server URL.
 */
function sameOrigin(url: string, serverUrl: string): boolean {
  if (url === serverUrl || url.startsWith(`${serverUrl}/`)) return true;
  try {
    const origin = new URL(url).origin;
    return origin !== "null" && origin === new URL(serverUrl).origin;
  } catch {
    return false;
  }
}

/** `https://host:port` of a URL; the URL itself when it has no origin (`git://`, a path). */
function urlOrigin(url: string): string {
  try {
    const origin = new URL(url).origin;
    return origin === "null" ? url : origin;
  } catch {
    return url;
  }
}

function joinUrl(serverUrl: string | undefined, repository: string | undefined): string | undefined {
  if (serverUrl === undefined || serverUrl === "" || repository === undefined || repository === "") {
    return undefined;
  }
  return `${serverUrl}/${repository}`;
}

/** Where a fetched ref is kept: branches as origin's, tags as tags, others (`refs/pull/…`) under refs/remotes. */
function localRef(ref: string): string {
  if (ref.startsWith("refs/heads/")) return `refs/remotes/origin/${ref.slice("refs/heads/".length)}`;
  if (ref.startsWith("refs/tags/")) return ref;
  return `refs/remotes/${ref.slice("refs/".length)}`;
}

/** Fetch one commit by id (falling back to its ref, or to every branch), check it out, verify. */
function commitPlan(sha: string, ref: string | undefined, fetch: string, withRef: boolean): FetchPlan {
  const lower = sha.toLowerCase();
  const branch = withRef && ref?.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : undefined;
  const fallback =
    withRef && ref?.startsWith("refs/")
      ? `${fetch} ${shellWord(`+${ref}:${localRef(ref)}`)}`
      : `${fetch} '+refs/heads/*:refs/remotes/origin/*'`;
  return {
    describe: `commit ${lower}${ref === undefined ? "" : ` (${ref})`}`,
    lines: [
      `if ! git cat-file -e ${shellWord(`${lower}^{commit}`)} 2>/dev/null; then`,
      `  ${fetch} ${shellWord(lower)} 2>/dev/null || ${fallback}`,
      "fi",
      branch === undefined
        ? `git -c advice.detachedHead=false checkout -q --force --detach ${shellWord(lower)}`
        : `git checkout -q --force -B ${shellWord(branch)} ${shellWord(lower)}`,
      `case "$(git rev-parse HEAD)" in ${shellWord(lower)}*) ;; *) echo ${shellWord(`checkout: HEAD is not at ${lower}`)} >&2; exit 1 ;; esac`,
    ],
  };
}

/** Fetch a named ref: a full `refs/…` name, or a name that may be a branch or a tag. */
function refPlan(ref: string, fetch: string): FetchPlan {
  if (ref.startsWith("refs/heads/")) {
    const branch = ref.slice("refs/heads/".length);
    return {
      describe: `branch ${branch}`,
      lines: [
        `${fetch} ${shellWord(`+${ref}:refs/remotes/origin/${branch}`)}`,
        `git checkout -q --force -B ${shellWord(branch)} ${shellWord(`refs/remotes/origin/${branch}`)}`,
      ],
    };
  }
  if (ref.startsWith("refs/tags/")) {
    return {
      describe: `tag ${ref.slice("refs/tags/".length)}`,
      lines: [
        `${fetch} ${shellWord(`+${ref}:${ref}`)}`,
        `git -c advice.detachedHead=false checkout -q --force --detach ${shellWord(ref)}`,
      ],
    };
  }
  if (ref.startsWith("refs/")) {
    const local = localRef(ref);
    return {
      describe: ref,
      lines: [
        `${fetch} ${shellWord(`+${ref}:${local}`)}`,
        `git -c advice.detachedHead=false checkout -q --force --detach ${shellWord(local)}`,
      ],
    };
  }
  return {
    describe: `branch or tag ${ref}`,
    lines: [
      `if ${fetch} ${shellWord(`+refs/heads/${ref}:refs/remotes/origin/${ref}`)} 2>/dev/null; then`,
      `  git checkout -q --force -B ${shellWord(ref)} ${shellWord(`refs/remotes/origin/${ref}`)}`,
      `elif ${fetch} ${shellWord(`+refs/tags/${ref}:refs/tags/${ref}`)}; then`,
      `  git -c advice.detachedHead=false checkout -q --force --detach ${shellWord(`refs/tags/${ref}`)}`,
      "else",
      `  echo ${shellWord(`checkout: no branch or tag named ${ref}`)} >&2`,
      "  exit 1",
      "fi",
    ],
  };
}
