import { readFile, rm } from "node:fs/promises";
import { writeFileAtomic } from "../settings/runner-files.ts";

// A file that says "this runner holds a broker session" while it does: written once the session
// is created, removed once it is deleted. Found at start, it means the last process died (kill -9,
// OOM, power) without deleting its session; GitHub refuses a new one ("a session for this runner
// already exists") until the old one expires, minutes later. The daemon deletes it first instead.

/** The marker file of one runner's state directory. */
export class SessionMarker {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** The session id a previous process left, if any. */
  async left(): Promise<string | undefined> {
    try {
      const text = (await readFile(this.path, "utf8")).trim();
      return text === "" ? "unknown" : text;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async set(sessionId: string): Promise<void> {
    await writeFileAtomic(this.path, `${sessionId}\n`);
  }

  async clear(): Promise<void> {
    await rm(this.path, { force: true });
  }
}
