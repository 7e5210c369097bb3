import { readFileSync } from "node:fs";
import { join } from "node:path";

// docs/configuration.md against a program's commander definition: every command's table lists
// exactly that command's flags, each with the environment variable it falls back to.

const ROOT = join(import.meta.dirname, "..", "..", "..");

/** The part of a commander `Command` read here (structural: no commander dependency). */
export interface CommandShape {
  name(): string;
  readonly options: readonly { readonly long?: string | undefined; readonly envVar?: string | undefined }[];
  readonly commands: readonly CommandShape[];
}

/** One flag of one command: `ciadm dlq list --amqp-url AMQP_URL`. */
export interface DocumentedFlag {
  readonly command: string;
  readonly flag: string;
  readonly env: string | undefined;
}

const key = (f: DocumentedFlag): string => `${f.command} ${f.flag} ${f.env ?? "-"}`;

/** Every flag of `program` and its subcommands (not --help/--version), by command path. */
export function programFlags(program: CommandShape, path = program.name()): DocumentedFlag[] {
  const own = program.options
    .filter((o) => o.long !== undefined && o.long !== "--help" && o.long !== "--version")
    .map((o) => ({ command: path, flag: o.long ?? "", env: o.envVar }));
  return [...own, ...program.commands.flatMap((c) => programFlags(c, `${path} ${c.name()}`))];
}

/** The flags docs/configuration.md lists under `## \`<program>\``, from its `### \`<command>\`` tables. */
export function documentedFlags(program: string, text = readConfigurationDoc()): DocumentedFlag[] {
  const start = text.indexOf(`\n## \`${program}\`\n`);
  if (start < 0) return [];
  const end = text.indexOf("\n## ", start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const flags: DocumentedFlag[] = [];
  let command: string | undefined;
  for (const line of section.split("\n")) {
    const heading = /^### `([^`]+)`$/.exec(line);
    if (heading !== null) command = heading[1];
    const row = /^\| `(?:-[a-zA-Z], )?(--[a-z0-9-]+)[^`]*` \| (?:`([A-Z0-9_]+)`)? *\|/.exec(line);
    if (row !== null && command !== undefined) flags.push({ command, flag: row[1] ?? "", env: row[2] });
  }
  return flags;
}

/** What the doc lacks (`missing`) and what it lists that the program does not have (`unknown`). */
export function configurationDocGaps(
  program: CommandShape,
  text = readConfigurationDoc(),
): { missing: string[]; unknown: string[] } {
  const actual = new Set(programFlags(program).map(key));
  const documented = new Set(documentedFlags(program.name(), text).map(key));
  return {
    missing: [...actual].filter((k) => !documented.has(k)),
    unknown: [...documented].filter((k) => !actual.has(k)),
  };
}

/** docs/configuration.md. */
export function readConfigurationDoc(): string {
  return readFileSync(join(ROOT, "docs", "configuration.md"), "utf8");
}
