// solstice-github-runner: the entry point. It only wires: the process's streams → the program
// (src/cli/program.ts) → the exit code.
//
//   node --conditions=@solstice/source packages/github-runner/src/main.ts --help   (from source)
//   solstice-github-runner --help                                                  (built: bin/)

import { exitWhenDrained, processContext, runProgram } from "@solstice/cli-kit";
import { buildProgram } from "./cli/program.ts";

const ctx = processContext();
const code = await runProgram(buildProgram(ctx), process.argv, {
  stderr: ctx.stderr,
  exitCode: ctx.exitCode,
});
await exitWhenDrained(code);
