import { readFileSync } from "node:fs";
import type { CliContext } from "@solstice/cli-kit";
import { prepareProgram } from "@solstice/cli-kit";
import { Command } from "commander";
import { registerList } from "./commands/list.ts";
import { registerRun } from "./commands/run.ts";
import { registerShow } from "./commands/show.ts";
import { registerTranslate } from "./commands/translate.ts";
import { registerValidate } from "./commands/validate.ts";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/** The `cidev` program with every command; `ctx` says where they write. */
export function buildProgram(ctx: CliContext): Command {
  const program = prepareProgram(
    new Command("cidev")
      .description(
        "Solstice CI developer CLI: validate, inspect and translate workflows (KDL or Actions YAML), " +
          "and run a job for real in a local VM.\n\n" +
          "Exit codes: 0 ok; 1 the workflow is invalid or the job failed; 2 usage, file, git or setup error.",
      )
      .version(version)
      .configureOutput({
        writeOut: (text) => ctx.stdout.write(text),
        writeErr: (text) => ctx.stderr.write(text),
      }),
  );
  registerValidate(program, ctx);
  registerList(program, ctx);
  registerShow(program, ctx);
  registerTranslate(program, ctx);
  registerRun(program, ctx);
  return program;
}
