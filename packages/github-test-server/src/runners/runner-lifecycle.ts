import type { ServerContext } from "../server-context.ts";

// Deleting a runner touches several registries: the runner goes, its sessions end, and its
// pending long poll wakes up to learn it is gone.

/** Deletes runner `id` (no-op when already gone); returns whether it existed. */
export function deleteRunner(context: ServerContext, id: number): boolean {
  if (!context.runners.delete(id)) return false;
  context.sessions.deleteForRunner(id);
  context.messages.wake(id);
  return true;
}
