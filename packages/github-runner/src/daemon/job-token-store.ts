import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";

// The one secret a running job needs after a restart: its access token (renewjob, completejob,
// the results service and the live feed all take it, and a job cannot be acquired twice). It is
// kept apart from the journal, in one 0600 file per job in a 0700 directory beside the runner's
// own credentials (which the reference runner keeps on disk too), and deleted with the journal
// entry once the job is complete.

const TokenFileSchema = z.object({ jobId: z.string().min(1), accessToken: z.string().min(1) });

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The job tokens of the running jobs. */
export class JobTokenStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  #file(jobId: string): string {
    if (!JOB_ID.test(jobId)) throw new Error(`job id ${JSON.stringify(jobId)} cannot name a file`);
    return join(this.dir, `${jobId}.json`);
  }

  /** Stores the token (atomically, mode 0600). */
  async save(jobId: string, accessToken: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = this.#file(jobId);
    const temporary = `${file}.tmp`;
    await writeFile(temporary, JSON.stringify({ jobId, accessToken }), { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, file);
  }

  /** The token, or undefined when there is none (or it is unreadable). */
  async load(jobId: string): Promise<string | undefined> {
    try {
      const parsed = TokenFileSchema.safeParse(JSON.parse(await readFile(this.#file(jobId), "utf8")));
      return parsed.success && parsed.data.jobId === jobId ? parsed.data.accessToken : undefined;
    } catch {
      return undefined;
    }
  }

  async remove(jobId: string): Promise<void> {
    await rm(this.#file(jobId), { force: true });
  }
}
