import { resolveRemoteRef } from "@solstice/cli-kit";
import { RefNotFoundError } from "../errors.ts";

/**
 * The commit `ref` (a branch, a tag, `HEAD`, or a full ref such as `refs/pull/3/head`) points to
 * in the repository at `url` (cli-kit's `resolveRemoteRef`: git's precedence, tags peeled).
 * @throws RefNotFoundError when the repository cannot be read or has no such ref
 */
export async function resolveRef(url: string, ref: string): Promise<string> {
  let found: Awaited<ReturnType<typeof resolveRemoteRef>>;
  try {
    found = await resolveRemoteRef(url, ref);
  } catch (error) {
    throw new RefNotFoundError(url, ref, error instanceof Error ? error : new Error(String(error)));
  }
  if (found === undefined) throw new RefNotFoundError(url, ref);
  return found.sha;
}
