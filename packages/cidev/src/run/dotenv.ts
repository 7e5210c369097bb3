import { MAX_ASSIGNMENT_VALUE, MAX_ASSIGNMENTS, VARIABLE_NAME } from "../cli/assignment.ts";

// A `.secrets` / `.env` file as act and forgejo-runner exec read them (dotenv): `NAME=VALUE` per
// line, `export ` allowed before the name, `#` comments, blank lines; a value may be 'single
// quoted' (taken as is), "double quoted" (\n \t \" \\ escapes; may span lines, for keys), or bare
// (trimmed, a ` #` starts a comment). Pure: the caller reads the file.

/** The largest file read. */
export const MAX_DOTENV_BYTES = 1024 * 1024;

/** A line of the file that is not `NAME=VALUE`. */
export class DotenvSyntaxError extends Error {
  readonly line: number;

  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

const ESCAPES: Readonly<Record<string, string>> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\", $: "$" };

/**
 * The variables of a dotenv text (a later line wins).
 * @throws DotenvSyntaxError naming the line
 *
 * @example
 *   parseDotenv('TOKEN=abc\nexport KEY="a\\nb"\n') // { TOKEN: "abc", KEY: "a\nb" }
 */
export function parseDotenv(text: string): Record<string, string> {
  if (Buffer.byteLength(text) > MAX_DOTENV_BYTES) {
    throw new DotenvSyntaxError(1, `the file is larger than ${MAX_DOTENV_BYTES} bytes`);
  }
  const out: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const body = line.replace(/^export\s+/, "");
    const eq = body.indexOf("=");
    if (eq <= 0) throw new DotenvSyntaxError(lineNo, "expected NAME=VALUE");
    const name = body.slice(0, eq).trim();
    if (!VARIABLE_NAME.test(name))
      throw new DotenvSyntaxError(lineNo, `"${name.slice(0, 80)}" is not a valid name`);
    let rest = body.slice(eq + 1).trimStart();
    let value: string;
    if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      if (end < 0) throw new DotenvSyntaxError(lineNo, "unterminated single quote");
      value = rest.slice(1, end);
    } else if (rest.startsWith('"')) {
      // A double-quoted value may continue on the next lines until its closing quote.
      let text = rest.slice(1);
      let parsed: { value: string; closed: boolean } = readDoubleQuoted(text);
      while (!parsed.closed) {
        i++;
        if (i >= lines.length) throw new DotenvSyntaxError(lineNo, "unterminated double quote");
        text = `${text}\n${lines[i]!}`;
        parsed = readDoubleQuoted(text);
      }
      value = parsed.value;
    } else {
      const comment = rest.search(/\s#/);
      if (comment >= 0) rest = rest.slice(0, comment);
      value = rest.trim();
    }
    if (value.length > MAX_ASSIGNMENT_VALUE) {
      throw new DotenvSyntaxError(
        lineNo,
        `the value of ${name} is longer than ${MAX_ASSIGNMENT_VALUE} characters`,
      );
    }
    if (!(name in out) && Object.keys(out).length >= MAX_ASSIGNMENTS) {
      throw new DotenvSyntaxError(lineNo, `more than ${MAX_ASSIGNMENTS} variables`);
    }
    out[name] = value;
  }
  return out;
}

/** The value up to the closing `"`, escapes applied; `closed` false when the text ends first. */
function readDoubleQuoted(text: string): { value: string; closed: boolean } {
  let value = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') return { value, closed: true };
    if (c === "\\" && i + 1 < text.length) {
      const next = text[i + 1]!;
      value += ESCAPES[next] ?? `\\${next}`;
      i++;
      continue;
    }
    value += c;
  }
  return { value, closed: false };
}
