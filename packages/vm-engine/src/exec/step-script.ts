import { type GuestLayout, resolveWorkingDirectory, stepFiles } from "./guest-layout.ts";
import { renderEnvExports, shQuote } from "./shell-quote.ts";

// What runs a step in the guest, as text. A step is two files in the run directory:
//   step-N.sh         the step's `run` text, verbatim (uploaded 0755, the `{0}` of the shell)
//   step-N.launch.sh  cd to the working directory, export the env, exec the shell on step-N.sh
// and the command that runs the launcher through RUNNER_SCRIPT (inline), which starts it in a new
// session and writes its pid, so a timeout or a cancel can kill the step's whole process group.
// Only /bin/sh is needed in the guest; `setsid` is used when present (Linux, busybox), else
// `set -m` job control gives the step its own process group.

/** The command line template for a step's `shell`, with `{0}` for the script path. */
export function shellTemplate(shell: string | undefined): { template: string } | { error: string } {
  const name = shell?.trim() ?? "";
  switch (name) {
    case "":
    case "sh":
      return { template: "sh -e {0}" };
    case "bash":
      return { template: "bash -e {0}" };
    case "python":
      return { template: "python {0}" };
    default:
      if (name.includes("{0}")) return { template: name };
      return {
        error: `unsupported shell ${JSON.stringify(name)}: use sh, bash, python or a command template with {0} for the script (e.g. "ksh -e {0}")`,
      };
  }
}

/** The shell command running the script at `scriptPath` with `template` (`{0}` → the quoted path). */
export function renderShellCommand(template: string, scriptPath: string): string {
  return template.replaceAll("{0}", shQuote(scriptPath));
}

/** What {@link renderStepFiles} needs to know about a step. */
export interface StepScriptInput {
  readonly index: number;
  readonly run: string;
  /** The merged environment (defaults, job env, step env; later wins). */
  readonly env: Readonly<Record<string, string>>;
  /** A template from {@link shellTemplate}. */
  readonly shellTemplate: string;
  readonly workingDirectory: string | undefined;
  /** Files the launcher creates empty before the step (its GITHUB_OUTPUT, GITHUB_ENV, ...). */
  readonly emptyFiles?: readonly string[];
  /** Directories put before PATH (what earlier steps wrote to GITHUB_PATH, latest first). */
  readonly pathPrefix?: readonly string[];
}

/** The files of one step and the command that runs it over SSH. */
export interface StepFiles {
  readonly scriptPath: string;
  readonly scriptContent: string;
  readonly launcherPath: string;
  readonly launcherContent: string;
  readonly pidFile: string;
  /** The SSH exec command: the runner on this step's launcher. */
  readonly command: string;
}

/**
 * Render a step's script, launcher and run command. Throws a TypeError for an env name a shell
 * cannot hold (the caller reports it as a step error).
 *
 * @example
 *   const files = renderStepFiles(guestLayout("/root"), {
 *     index: 0, run: "make test", env: { CI: "true" }, shellTemplate: "sh -e {0}", workingDirectory: "src",
 *   });
 *   files.command; // "exec sh -c '<runner>' solstice-step '/root/.solstice-run/step-0.pid' ..."
 */
export function renderStepFiles(layout: GuestLayout, step: StepScriptInput): StepFiles {
  const paths = stepFiles(layout, step.index);
  const directory = resolveWorkingDirectory(layout, step.workingDirectory);
  const scriptContent = step.run.endsWith("\n") ? step.run : `${step.run}\n`;
  const launcherContent = [
    "#!/bin/sh",
    `# Solstice CI: launcher of step ${step.index} (generated)`,
    `cd ${shQuote(directory)} || { printf 'solstice: cannot enter working directory %s\\n' ${shQuote(directory)} >&2; exit 1; }`,
    ...(step.emptyFiles ?? []).map((file) => `: >${shQuote(file)}`),
    ...renderEnvExports(step.env),
    ...((step.pathPrefix ?? []).length === 0
      ? []
      : [`PATH=${shQuote((step.pathPrefix ?? []).join(":"))}:"$PATH"; export PATH`]),
    `exec ${renderShellCommand(step.shellTemplate, paths.script)}`,
    "",
  ].join("\n");
  return {
    scriptPath: paths.script,
    scriptContent,
    launcherPath: paths.launcher,
    launcherContent,
    pidFile: paths.pidFile,
    command: `exec sh -c ${shQuote(RUNNER_SCRIPT)} solstice-step ${shQuote(paths.pidFile)} ${shQuote(paths.launcher)}`,
  };
}

/**
 * The step runner, passed inline as `sh -c RUNNER solstice-step <pidfile> <launcher>` (no file,
 * no extra process in the guest; `sh -c` also shields it from a non-POSIX login shell): starts the launcher as the leader of a
 * new process group (its pid is the group id), records the pid, waits, and exits with the step's
 * status. The step's stdin is /dev/null (a background job's), its stdout/stderr the SSH channel's.
 */
export const RUNNER_SCRIPT = `pidfile=$1
launcher=$2
if command -v setsid >/dev/null 2>&1; then
  setsid sh "$launcher" </dev/null &
else
  set -m 2>/dev/null
  sh "$launcher" </dev/null &
fi
pid=$!
echo "$pid" >"$pidfile"
wait "$pid"
exit $?
`;

/**
 * A command (for a second SSH channel) that sends `signal` to the step's process group, or to
 * its leader alone where there is no group. Silent and successful when the step already ended.
 */
export function renderKillCommand(pidFile: string, signal: "TERM" | "KILL"): string {
  const script = [
    `pid=$(cat ${shQuote(pidFile)} 2>/dev/null)`,
    `[ -n "$pid" ] || exit 0`,
    `kill -${signal} -"$pid" 2>/dev/null || kill -${signal} "$pid" 2>/dev/null`,
    "exit 0",
  ].join("\n");
  return `sh -c ${shQuote(script)}`;
}
