// ciadm: the operator CLI's entry point. It only wires: the process's streams → the program
// (src/program.ts, one file per command under src/commands/) → the exit code.
//
//   pnpm ciadm jobs --state running        (from source; Node strips the types)
//   ciadm health                           (built: bin/ciadm.js)

import { exitWhenDrained, processContext, runProgram } from "@solstice/cli-kit";
import { buildProgram } from "./program.ts";

const ctx = processContext();
const code = await runProgram(buildProgram(ctx), process.argv, {
  stderr: ctx.stderr,
  exitCode: ctx.exitCode,
});
await exitWhenDrained(code);
