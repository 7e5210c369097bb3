import { randomUUID } from "node:crypto";

// Broker sessions: one live session per runner (a second one is a conflict until the first is
// deleted).

/** A session as the broker keeps it. */
export interface SessionRecord {
  readonly sessionId: string;
  readonly runnerId: number;
  readonly ownerName: string;
  /** The `agent` object the runner sent. */
  readonly agent: Readonly<Record<string, unknown>>;
  readonly useFipsEncryption: boolean;
  /** Legacy sessions: the AES key every message body is encrypted with (never sent in clear). */
  readonly encryptionKey: Buffer | undefined;
  readonly createdAt: Date;
  readonly deletedAt: Date | undefined;
}

interface SessionEntry extends SessionRecord {
  deletedAt: Date | undefined;
}

/** The sessions, live and deleted. */
export class SessionRegistry {
  readonly #sessions: SessionEntry[] = [];

  create(input: Omit<SessionRecord, "sessionId" | "createdAt" | "deletedAt">): SessionRecord {
    const entry: SessionEntry = {
      ...input,
      sessionId: randomUUID(),
      createdAt: new Date(),
      deletedAt: undefined,
    };
    this.#sessions.push(entry);
    return entry;
  }

  /** The runner's live session. */
  liveOf(runnerId: number): SessionRecord | undefined {
    return this.#sessions.find((s) => s.runnerId === runnerId && s.deletedAt === undefined);
  }

  get(sessionId: string): SessionRecord | undefined {
    return this.#sessions.find((s) => s.sessionId.toLowerCase() === sessionId.toLowerCase());
  }

  /** Deletes one session; returns whether it was live. */
  delete(sessionId: string): boolean {
    const entry = this.#sessions.find((s) => s.sessionId.toLowerCase() === sessionId.toLowerCase());
    if (entry === undefined || entry.deletedAt !== undefined) return false;
    entry.deletedAt = new Date();
    return true;
  }

  deleteForRunner(runnerId: number): number {
    let deleted = 0;
    for (const session of this.#sessions) {
      if (session.runnerId === runnerId && session.deletedAt === undefined) {
        session.deletedAt = new Date();
        deleted++;
      }
    }
    return deleted;
  }

  list(): readonly SessionRecord[] {
    return this.#sessions;
  }
}
