// cidev: the developer CLI's entry point. It only wires: the process's streams → the program
// (src/program.ts, one file per command under src/commands/) → the exit code.
//
//   pnpm cidev validate examples/workflow.kdl       (from source; Node strips the types)
//   cidev run examples/hello                        (built: bin/cidev.js)

import { exitWhenDrained, processContext, runProgram } from "@solstice/cli-kit";
import { classifyCidevError } from "./errors.ts";
import { buildProgram } from "./program.ts";

const ctx = processContext();
const code = await runProgram(buildProgram(ctx), process.argv, {
  stderr: ctx.stderr,
  exitCode: ctx.exitCode,
  classify: classifyCidevError,
});
await exitWhenDrained(code);
