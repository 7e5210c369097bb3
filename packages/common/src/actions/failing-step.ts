import { shellWord } from "./shell-word.ts";

// A step Solstice CI cannot run (an action other than checkout, a `shell` it does not know, an
// expression that fails) still takes its place in the job, so that the forge's step indexes stay
// right: it prints why to stderr and exits 1. It honours `if` and `continue-on-error` like any
// step, so the job fails only if the step would have run and may not fail.

/**
 * The script of a step that fails with `message`.
 *
 * @example
 *   failingScript("uses: docker/login-action@v3 is not supported");
 *   // "printf '%s\n' 'solstice: uses: docker/login-action@v3 is not supported' >&2\nexit 1\n"
 */
export function failingScript(message: string): string {
  const lines = message.split("\n").map((line) => `printf '%s\\n' ${shellWord(`solstice: ${line}`)} >&2`);
  return `${lines.join("\n")}\nexit 1\n`;
}
