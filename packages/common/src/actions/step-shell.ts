// A step's `shell:` → the command template the executor runs the script with (`{0}` is the
// script file). The templates are those of GitHub's runner for Linux and macOS. Without any
// `shell` (step, job or workflow `defaults.run`), the step gets none and the executor's default
// applies: `sh -e {0}`. (GitHub uses `bash -e {0}` when bash exists; illumos and BSD guests
// need not have bash, so Solstice runs `sh` unless `bash` is asked for.)

const TEMPLATES: Readonly<Record<string, string>> = {
  sh: "sh -e {0}",
  bash: "bash --noprofile --norc -eo pipefail {0}",
  python: "python {0}",
};

const WINDOWS_SHELLS = new Set(["pwsh", "powershell", "cmd"]);

/**
 * The command template for `shell`, or the reason it cannot be used.
 *
 * @example
 *   shellCommand("bash");        // { template: "bash --noprofile --norc -eo pipefail {0}" }
 *   shellCommand("ksh -e {0}");  // { template: "ksh -e {0}" }
 */
export function shellCommand(shell: string): { template: string } | { error: string } {
  const name = shell.trim();
  const known = TEMPLATES[name];
  if (known !== undefined) return { template: known };
  if (name.includes("{0}")) return { template: name };
  if (WINDOWS_SHELLS.has(name)) {
    return {
      error: `shell "${name}" is not available in Solstice CI guests: use sh, bash, python, or a command with {0} for the script (e.g. "ksh -e {0}")`,
    };
  }
  return {
    error: `unknown shell "${name}": use sh, bash, python, or a command with {0} for the script (e.g. "ksh -e {0}")`,
  };
}
