import { formatError } from "@solstice/cli-kit";
import { buildProgram } from "./cli/program.ts";

// The entry point: wires stdout and signals to the program, then runs it.
const stopped = new Promise<void>((resolve) => {
  process.once("SIGINT", () => resolve());
  process.once("SIGTERM", () => resolve());
});
buildProgram({ stdout: process.stdout, stopped })
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(formatError("solstice-github-test-server", error));
    process.exitCode = 2;
  });
