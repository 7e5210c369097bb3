import { type KeyObject, randomUUID } from "node:crypto";

// The registered runners: their names, labels, scope, and the public key their OAuth client
// assertions are checked against. A deleted runner stays listed (with `deletedAt`) so tests can
// see it, but authenticates no more.

/** A label as the runner sends it at registration. */
export interface RunnerLabel {
  readonly name: string;
  /** `system` (self-hosted, OS, architecture) or `user`. */
  readonly type: "system" | "user";
}

/** A runner as the server keeps it. */
export interface RunnerRecord {
  readonly id: number;
  readonly name: string;
  /** The OAuth client id (a GUID), the `iss` of its client assertions. */
  readonly clientId: string;
  /** `repos/owner/name` or `orgs/owner`. */
  readonly scope: string;
  readonly groupId: number;
  readonly labels: readonly RunnerLabel[];
  readonly version: string;
  readonly ephemeral: boolean;
  readonly disableUpdate: boolean;
  /** Made by generate-jitconfig (the server made its key pair). */
  readonly jit: boolean;
  readonly publicKey: KeyObject;
  readonly createdAt: Date;
  /** The status the runner last reported when polling (`Online`, `Busy`...). */
  readonly lastStatus: string | undefined;
  /** The OS and architecture it last reported when polling. */
  readonly lastOs: string | undefined;
  readonly lastPollAt: Date | undefined;
  readonly deletedAt: Date | undefined;
  /** How many times it was replaced (`replace: true` at registration). */
  readonly replacements: number;
}

/** The mutable form the server updates. */
export interface RunnerEntry extends RunnerRecord {
  name: string;
  labels: RunnerLabel[];
  version: string;
  ephemeral: boolean;
  disableUpdate: boolean;
  publicKey: KeyObject;
  lastStatus: string | undefined;
  lastOs: string | undefined;
  lastPollAt: Date | undefined;
  deletedAt: Date | undefined;
  replacements: number;
}

/** Input of a new registration. */
export interface NewRunner {
  readonly name: string;
  readonly scope: string;
  readonly groupId: number;
  readonly labels: readonly RunnerLabel[];
  readonly version: string;
  readonly ephemeral: boolean;
  readonly disableUpdate: boolean;
  readonly jit: boolean;
  readonly publicKey: KeyObject;
}

/** The runners, by id. */
export class RunnerRegistry {
  readonly #runners = new Map<number, RunnerEntry>();
  #nextId = 1;

  add(input: NewRunner): RunnerEntry {
    const entry: RunnerEntry = {
      ...input,
      labels: [...input.labels],
      id: this.#nextId++,
      clientId: randomUUID(),
      createdAt: new Date(),
      lastStatus: undefined,
      lastOs: undefined,
      lastPollAt: undefined,
      deletedAt: undefined,
      replacements: 0,
    };
    this.#runners.set(entry.id, entry);
    return entry;
  }

  /** A live (not deleted) runner. */
  get(id: number): RunnerEntry | undefined {
    const entry = this.#runners.get(id);
    return entry?.deletedAt === undefined ? entry : undefined;
  }

  /** A runner, deleted or not. */
  getAny(id: number): RunnerEntry | undefined {
    return this.#runners.get(id);
  }

  byClientId(clientId: string): RunnerEntry | undefined {
    for (const entry of this.#runners.values()) {
      if (entry.clientId === clientId && entry.deletedAt === undefined) return entry;
    }
    return undefined;
  }

  /** The live runner of that name in that scope (names are case-insensitive). */
  byName(scope: string, name: string): RunnerEntry | undefined {
    for (const entry of this.#runners.values()) {
      if (
        entry.deletedAt === undefined &&
        entry.scope === scope &&
        entry.name.toLowerCase() === name.toLowerCase()
      ) {
        return entry;
      }
    }
    return undefined;
  }

  /** Live runners of a scope, oldest first. */
  inScope(scope: string): RunnerEntry[] {
    return [...this.#runners.values()].filter((r) => r.deletedAt === undefined && r.scope === scope);
  }

  /** Every runner, deleted ones too, oldest first. */
  list(): RunnerEntry[] {
    return [...this.#runners.values()];
  }

  delete(id: number): boolean {
    const entry = this.#runners.get(id);
    if (entry === undefined || entry.deletedAt !== undefined) return false;
    entry.deletedAt = new Date();
    return true;
  }
}

/** Whether a runner's labels cover every `runs-on` label (case-insensitive, as GitHub). */
export function labelsCover(
  runner: { readonly labels: readonly RunnerLabel[] },
  runsOn: readonly string[],
): boolean {
  const have = new Set(runner.labels.map((l) => l.name.toLowerCase()));
  return runsOn.every((label) => have.has(label.toLowerCase()));
}
