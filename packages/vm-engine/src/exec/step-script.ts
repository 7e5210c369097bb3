import { posix } from "node:path";
import { type GuestLayout, resolveWorkingDirectory, stepFiles } from "./guest-layout.ts";
import { renderEnvExports, shQuote } from "./shell-quote.ts";

// What runs a step in the guest, as text. A step is two files in the run directory:
//   step-N.sh         the step's `run` text, verbatim (uploaded 0755, the `{0}` of the shell)
//   step-N.launch.sh  cd to the working directory, export the env, exec the shell on step-N.sh
// and the SSH command (renderStepCommand) that starts SUPERVISOR_SCRIPT detached from the SSH
// session, once, and follows the step's output files by byte offset (FOLLOW_SCRIPT). The
// supervisor starts the launcher in a new session, writes its pid (so a timeout or a cancel can
// kill the step's whole process group), appends its stdout/stderr to step-N.out/step-N.err and
// writes its exit status to step-N.status when it ends; the step survives a dropped connection,
// and the same command, run again with the offsets reached, resumes the output.
// Only /bin/sh (with wc, dd, tail, head -c, mv, sleep) is needed in the guest; `setsid` is used
// when present (Linux, busybox), else `nohup` and `set -m` job control.

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

/** The files of one step in the guest (run by {@link renderStepCommand}). */
export interface StepFiles {
  readonly scriptPath: string;
  readonly scriptContent: string;
  readonly launcherPath: string;
  readonly launcherContent: string;
  readonly pidFile: string;
  /** The step's stdout and stderr, appended by its supervisor in the guest. */
  readonly stdoutFile: string;
  readonly stderrFile: string;
  /** The step's exit status, written when it ended. */
  readonly statusFile: string;
  /** Made when the step's supervisor is started (a directory). */
  readonly startedMarker: string;
}

/**
 * Render a step's script and launcher, and name its files in the guest. Throws a TypeError for an env name a shell
 * cannot hold (the caller reports it as a step error).
 *
 * @example
 *   const files = renderStepFiles(guestLayout("/root"), {
 *     index: 0, run: "make test", env: { CI: "true" }, shellTemplate: "sh -e {0}", workingDirectory: "src",
 *   });
 *   renderStepCommand(files, { stdout: 0, stderr: 0 }); // "exec sh -c '<follower>' solstice-step ..."
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
    stdoutFile: paths.stdoutFile,
    stderrFile: paths.stderrFile,
    statusFile: paths.statusFile,
    startedMarker: paths.startedMarker,
  };
}

/**
 * The step's supervisor, started detached by {@link FOLLOW_SCRIPT} in the run directory as
 * `setsid sh -c SUPERVISOR solstice-supervisor <pid> <launcher> <out> <err> <status>` (names in
 * that directory), with stdin, stdout and stderr off the SSH channel, so it and the step outlive
 * the connection: starts the launcher as the leader of a new process group (its pid is the group
 * id, which the kill command signals), records the pid, appends the step's stdout and stderr to
 * their files, waits, and writes the exit status atomically (a temporary file, then `mv`): the
 * status file exists only once the step ended and all it wrote is in the output files.
 */
export const SUPERVISOR_SCRIPT = `if command -v setsid >/dev/null 2>&1; then
  setsid sh "$2" </dev/null >>"$3" 2>>"$4" &
else
  set -m 2>/dev/null
  sh "$2" </dev/null >>"$3" 2>>"$4" &
fi
pid=$!
echo "$pid" >"$1"
wait "$pid"
code=$?
echo "$code" >"$5.tmp" && mv -f "$5.tmp" "$5"
`;

/**
 * The follower, passed inline as `sh -c FOLLOW solstice-step SUPERVISOR <run dir> <pid> <launcher>
 * <out> <err> <status> <started> <stdout offset> <stderr offset>` (file names in the run
 * directory; `sh -c` shields it from a non-POSIX login shell). It starts the supervisor unless an
 * earlier run of this command did (creating the started marker with `set -C`, O_EXCL, is
 * the atomic test; in a subshell, which forks but execs nothing), then sends
 * what the output files hold past the offsets as frames (parsed by FollowFrameParser):
 *
 *   o <offset> <length>\n<length bytes of stdout>\n
 *   e <offset> <length>\n<length bytes of stderr>\n
 *   x <exit status>\n            (last: the status file existed before the final reads)
 *
 * Reads past 64 KiB seek (`dd skip=` whole blocks, the rest cut by `tail -c`), so following a long
 * step stays linear in its output (`tail -c +N` alone reads from the start on busybox). While
 * nothing comes it polls less and less often, up to once a second; a poll is one `wc` and one
 * `sleep`. Guest CPU is scarce under TCG, so every process saved counts.
 */
export const FOLLOW_SCRIPT = `sup=$1
cd "$2" || exit 1
pidfile=$3
launcher=$4
out=$5
err=$6
status=$7
started=$8
oo=$9
shift 9
eo=$1
idle=0
if (set -C; : >"$started") 2>/dev/null; then
  : >>"$out"
  : >>"$err"
  if command -v setsid >/dev/null 2>&1; then
    setsid sh -c "$sup" solstice-supervisor "$pidfile" "$launcher" "$out" "$err" "$status" </dev/null >/dev/null 2>&1 &
  else
    nohup sh -c "$sup" solstice-supervisor "$pidfile" "$launcher" "$out" "$err" "$status" </dev/null >/dev/null 2>&1 &
  fi
  # Nothing to read yet: the first poll waits a little.
  sleep 0.02 2>/dev/null
fi
emit() {
  [ "$2" -gt "$3" ] || return 0
  printf '%s %s %s\\n' "$1" "$3" $(( $2 - $3 ))
  if [ "$3" -eq 0 ]; then
    head -c "$2" "$4"
  elif [ "$3" -lt 65536 ]; then
    tail -c +$(( $3 + 1 )) "$4" | head -c $(( $2 - $3 ))
  else
    dd if="$4" bs=4096 skip=$(( $3 / 4096 )) count=$(( ($2 - $3 / 4096 * 4096 + 4095) / 4096 )) 2>/dev/null | tail -c +$(( $3 % 4096 + 1 )) | head -c $(( $2 - $3 ))
  fi
  printf '\\n'
}
while :; do
  if [ -e "$status" ]; then last=1; else last=0; fi
  set -- $(wc -c "$out" "$err")
  emit o "$1" "$oo" "$out"
  emit e "$3" "$eo" "$err"
  if [ "$last" = 1 ]; then
    read -r code <"$status"
    printf 'x %s\\n' "$code"
    exit 0
  fi
  if [ "$1" -gt "$oo" ] || [ "$3" -gt "$eo" ]; then idle=0; else idle=$(( idle + 1 )); fi
  oo=$1
  eo=$3
  case $idle in
    0) nap=0.02 ;;
    1|2) nap=0.05 ;;
    3|4) nap=0.1 ;;
    5|6) nap=0.25 ;;
    7|8) nap=0.5 ;;
    *) nap=1 ;;
  esac
  sleep "$nap" 2>/dev/null || sleep 1
done
`;

/** Bytes of a step's stdout and stderr files the engine already has. */
export interface StepOutputOffsets {
  readonly stdout: number;
  readonly stderr: number;
}

/**
 * The SSH command that starts the step (once) and follows its output from `offsets`: run it
 * again with the offsets reached after a dropped connection, and the output goes on where it
 * stopped, the step untouched.
 */
export function renderStepCommand(files: StepFiles, offsets: StepOutputOffsets): string {
  for (const offset of [offsets.stdout, offsets.stderr]) {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`bad output offset ${offset}`);
  }
  const paths = [
    files.pidFile,
    files.launcherPath,
    files.stdoutFile,
    files.stderrFile,
    files.statusFile,
    files.startedMarker,
  ];
  const directory = posix.dirname(files.stdoutFile);
  const names = paths.map((path) => posix.basename(path));
  // The follower splits `wc` output into words: names without blanks, all in one directory.
  if (paths.some((path) => posix.dirname(path) !== directory) || names.some((name) => /\s/.test(name))) {
    throw new TypeError(`a step's files must be in one directory under plain names: ${paths.join(", ")}`);
  }
  return [
    "exec sh -c",
    shQuote(FOLLOW_SCRIPT),
    "solstice-step",
    shQuote(SUPERVISOR_SCRIPT),
    shQuote(directory),
    ...names.map(shQuote),
    String(offsets.stdout),
    String(offsets.stderr),
  ].join(" ");
}

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
