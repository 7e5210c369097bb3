import { constants } from "node:fs";
import { access, mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

// Where VM work directories live. The system location when this process may write there (a
// service running as root or as its own user owning it), else the user's XDG state directory
// (a developer running `cidev`).

/** The system-wide location, used when writable. */
export const SYSTEM_VM_STATE_DIR = "/var/lib/solstice/vms";

/** `${XDG_STATE_HOME:-~/.local/state}/solstice/vms` for `env`. */
export function userVmStateDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const xdg = env["XDG_STATE_HOME"];
  const base = xdg?.startsWith("/") ? xdg : join(env["HOME"] ?? homedir(), ".local", "state");
  return join(base, "solstice", "vms");
}

/**
 * The default VM state directory: {@link SYSTEM_VM_STATE_DIR} if it exists and is writable, or can
 * be created; otherwise {@link userVmStateDir}. The directory returned exists (mode 0700 when
 * created here).
 */
export async function defaultVmStateDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string> {
  if (await usableDir(SYSTEM_VM_STATE_DIR)) return SYSTEM_VM_STATE_DIR;
  const user = userVmStateDir(env);
  await mkdir(user, { recursive: true, mode: 0o700 });
  return user;
}

async function usableDir(path: string): Promise<boolean> {
  try {
    await mkdir(path, { recursive: true, mode: 0o700 });
    await access(path, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
