import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

// Shell-like expansion for paths in the image map: `${VAR}`, `${VAR:-default}` (the default is
// itself expanded), `$VAR`, and a leading `~` or `~/`. Nothing else (no command substitution).

/** A `${VAR}` with no value and no default. */
export class PathExpansionError extends Error {
  readonly variable: string;

  constructor(variable: string, text: string) {
    super(`\${${variable}} is not set (in "${text}")`);
    this.variable = variable;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Expand `${VAR}`, `${VAR:-default}` and `$VAR`. An empty variable counts as unset for `:-`, as in
 * the shell. An unset variable without default throws {@link PathExpansionError}.
 *
 * @example expandVariables("${SOLSTICE_CACHE:-~/.cache/solstice}/guests", {}) // "~/.cache/solstice/guests"
 */
export function expandVariables(text: string, env: Env): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "$" && text[i + 1] === "{") {
      const close = findClosingBrace(text, i + 2);
      if (close < 0) {
        out += text.slice(i);
        break;
      }
      const body = text.slice(i + 2, close);
      const sep = body.indexOf(":-");
      const name = sep < 0 ? body : body.slice(0, sep);
      const value = env[name];
      if (value !== undefined && value !== "") out += value;
      else if (sep >= 0) out += expandVariables(body.slice(sep + 2), env);
      else throw new PathExpansionError(name, text);
      i = close + 1;
    } else if (ch === "$" && /[A-Za-z_]/.test(text[i + 1] ?? "")) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1))!;
      const name = match[0];
      const value = env[name];
      if (value === undefined) throw new PathExpansionError(name, text);
      out += value;
      i += 1 + name.length;
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
}

/**
 * Expand variables, then a leading `~` (from `HOME` in `env`, else the OS home directory), then make
 * the path absolute against `baseDir`.
 */
export function expandPath(text: string, env: Env, baseDir: string): string {
  const expanded = expandTilde(expandVariables(text, env), env);
  return isAbsolute(expanded) ? resolve(expanded) : resolve(baseDir, expanded);
}

function expandTilde(path: string, env: Env): string {
  if (path !== "~" && !path.startsWith("~/")) return path;
  const home = env["HOME"] || homedir();
  return path === "~" ? home : join(home, path.slice(2));
}

function findClosingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return i;
  }
  return -1;
}
