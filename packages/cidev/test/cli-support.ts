import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CliResult, type CliRunOptions, runCli, tempFiles as tempDir } from "@solstice/test-support";

export { type CliResult, REPO_ROOT } from "@solstice/test-support";

/** The CLI's entry point. */
export const CIDEV_MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "main.ts");

/** Runs `cidev args…` as a child process from source and waits for it to exit. */
export const runCidev = (args: readonly string[], options?: CliRunOptions): Promise<CliResult> =>
  runCli("cidev", CIDEV_MAIN, args, options);

/** A temporary directory (outside any git repository) with `files`; `remove()` deletes it. */
export const tempFiles = (files: Record<string, string>) => tempDir(files, "cidev-test-");
