import { posix } from "node:path";

// Where the engine puts things in the guest. Paths are absolute, under the SSH user's home
// (read once after connecting): the workspace as the original runner's `/root/work`, and a run
// directory for the step scripts the engine uploads, the steps' file commands and RUNNER_TEMP.
// The VM is thrown away after the job, so nothing here is ever cleaned up in the guest.

/** The workspace's name under the home directory (the original runner's `/root/work`). */
export const WORKSPACE_DIR_NAME = "work";
/** The run directory's name under the home directory. */
export const RUN_DIR_NAME = ".solstice-run";
/** RUNNER_TEMP's name in the run directory. */
export const RUNNER_TEMP_NAME = "tmp";

/** Absolute paths in the guest for one job. */
export interface GuestLayout {
  /** The SSH user's home directory. */
  readonly home: string;
  /** The checked-out repository; steps start here. */
  readonly workspace: string;
  /** Step scripts, launchers, pid files, the steps' output and exit status files. */
  readonly runDir: string;
}

/** The layout for a home directory (absolute). */
export function guestLayout(home: string): GuestLayout {
  if (!home.startsWith("/"))
    throw new TypeError(`guest home must be an absolute path, got ${JSON.stringify(home)}`);
  const normalised = posix.normalize(home).replace(/(.)\/+$/, "$1");
  return {
    home: normalised,
    workspace: posix.join(normalised, WORKSPACE_DIR_NAME),
    runDir: posix.join(normalised, RUN_DIR_NAME),
  };
}

/** A step's working directory: absolute as given, else relative to the workspace. */
export function resolveWorkingDirectory(layout: GuestLayout, workingDirectory: string | undefined): string {
  if (workingDirectory === undefined || workingDirectory === "") return layout.workspace;
  if (workingDirectory.startsWith("/")) return posix.normalize(workingDirectory);
  return posix.join(layout.workspace, workingDirectory);
}

/** RUNNER_TEMP: a directory in the run directory (the workspace script makes it). */
export function runnerTempDir(layout: GuestLayout): string {
  return posix.join(layout.runDir, RUNNER_TEMP_NAME);
}

/** The files of step `index` in the run directory. */
export function stepFiles(
  layout: GuestLayout,
  index: number,
): {
  script: string;
  launcher: string;
  pidFile: string;
  stdoutFile: string;
  stderrFile: string;
  statusFile: string;
  startedMarker: string;
} {
  const file = (suffix: string): string => posix.join(layout.runDir, `step-${index}.${suffix}`);
  return {
    script: posix.join(layout.runDir, `step-${index}.sh`),
    launcher: file("launch.sh"),
    pidFile: file("pid"),
    // Written by the step's supervisor in the guest, so they outlive the SSH connection.
    stdoutFile: file("out"),
    stderrFile: file("err"),
    statusFile: file("status"),
    // Created with `set -C` (O_EXCL): the atomic "start the supervisor once" test.
    startedMarker: file("started"),
  };
}
