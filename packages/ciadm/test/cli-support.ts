import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CliResult, type CliRunOptions, runCli } from "@solstice/test-support";

export { type CliResult, REPO_ROOT } from "@solstice/test-support";

/** The CLI's entry point. */
export const CIADM_MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "main.ts");

/** Runs `ciadm args…` as a child process from source and waits for it to exit. */
export const runCiadm = (args: readonly string[], options?: CliRunOptions): Promise<CliResult> =>
  runCli("ciadm", CIADM_MAIN, args, options);
