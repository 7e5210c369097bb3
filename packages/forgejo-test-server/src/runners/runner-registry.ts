import { randomUUID } from "node:crypto";
import { newHexToken, newRegistrationToken, sameSecret } from "../random-tokens.ts";
import { truncateUtf8 } from "../truncate-utf8.ts";

// Registration tokens and runners, as Forgejo keeps them (models/actions/runner_token.go,
// runner.go): creating a registration token invalidates the earlier ones of its scope (this
// server has one scope, the instance); a token stays usable for any number of registrations
// until a newer one replaces it or it is revoked. A runner is known by uuid and authenticated by
// its token; a deleted (revoked) runner is unknown from then on.

/** A registered runner, as the test server holds it. */
export interface RunnerRecord {
  readonly id: bigint;
  readonly uuid: string;
  /** The runner's secret token (sent back as `x-runner-token`). */
  readonly token: string;
  readonly name: string;
  /** The label names the runner registered or last declared; tasks match against these. */
  readonly labels: readonly string[];
  readonly version: string;
  readonly ephemeral: boolean;
  /** What the last Declare said, once the runner declared. */
  readonly declared?: { readonly version: string; readonly labels: readonly string[] };
  /** The last authenticated call (Forgejo's last_online). */
  readonly lastSeenAt?: Date;
  /** The last UpdateTask or UpdateLog (Forgejo's last_active). */
  readonly lastActiveAt?: Date;
}

class RunnerEntry implements RunnerRecord {
  readonly id: bigint;
  readonly uuid: string;
  readonly token: string;
  readonly name: string;
  labels: readonly string[];
  version: string;
  readonly ephemeral: boolean;
  declared?: { readonly version: string; readonly labels: readonly string[] };
  lastSeenAt?: Date;
  lastActiveAt?: Date;

  constructor(fields: {
    id: bigint;
    name: string;
    labels: readonly string[];
    version: string;
    ephemeral: boolean;
  }) {
    this.id = fields.id;
    this.uuid = randomUUID();
    this.token = newHexToken();
    this.name = fields.name;
    this.labels = fields.labels;
    this.version = fields.version;
    this.ephemeral = fields.ephemeral;
  }
}

/** Why a registration was refused (the RPC layer words it as Forgejo does). */
export type RegistrationRefusal = "missing-name-or-token" | "token-not-found" | "token-invalidated";

/** What Register asks. */
export interface RegistrationRequest {
  readonly name: string;
  readonly token: string;
  readonly version: string;
  readonly labels: readonly string[];
  readonly ephemeral: boolean;
}

/** The instance's registration tokens and runners. */
export class RunnerRegistry {
  /** token → active? (Forgejo's action_runner_token.is_active). */
  readonly #registrationTokens = new Map<string, boolean>();
  readonly #runners = new Map<string, RunnerEntry>();
  #nextId = 1n;

  /** A new registration token; the earlier ones are invalidated, as in Forgejo. */
  createRegistrationToken(): string {
    for (const token of this.#registrationTokens.keys()) this.#registrationTokens.set(token, false);
    const token = newRegistrationToken();
    this.#registrationTokens.set(token, true);
    return token;
  }

  /** Marks a registration token inactive: registering with it is refused from then on. */
  revokeRegistrationToken(token: string): void {
    if (this.#registrationTokens.has(token)) this.#registrationTokens.set(token, false);
  }

  /** Registers a runner (Forgejo's RunnerService.Register), or says why not. */
  register(request: RegistrationRequest): { runner: RunnerRecord } | { refused: RegistrationRefusal } {
    if (request.token === "" || request.name === "") return { refused: "missing-name-or-token" };
    const active = this.#findRegistrationToken(request.token);
    if (active === undefined) return { refused: "token-not-found" };
    if (!active) return { refused: "token-invalidated" };
    const runner = new RunnerEntry({
      id: this.#nextId++,
      name: truncateUtf8(request.name, 255),
      labels: [...request.labels],
      version: request.version,
      ephemeral: request.ephemeral,
    });
    this.#runners.set(runner.uuid, runner);
    return { runner };
  }

  /** The runner these headers name, if its token is right (Forgejo's withRunner interceptor). */
  authenticate(
    uuid: string | null,
    token: string | null,
    now: Date,
    active: boolean,
  ): RunnerRecord | undefined {
    if (uuid === null || token === null) return undefined;
    const runner = this.#runners.get(uuid);
    if (runner === undefined || !sameSecret(runner.token, token)) return undefined;
    runner.lastSeenAt = now;
    if (active) runner.lastActiveAt = now;
    return runner;
  }

  /** Stores what Declare says: the runner's version and labels. */
  declare(uuid: string, version: string, labels: readonly string[]): RunnerRecord | undefined {
    const runner = this.#runners.get(uuid);
    if (runner === undefined) return undefined;
    runner.version = version;
    runner.labels = [...labels];
    runner.declared = { version, labels: [...labels] };
    return runner;
  }

  /** Deletes a runner: its token is refused from then on. */
  revoke(uuid: string): void {
    this.#runners.delete(uuid);
  }

  /** The runner with this uuid, if still registered. */
  get(uuid: string): RunnerRecord | undefined {
    return this.#runners.get(uuid);
  }

  /** Every registered runner, oldest first. */
  list(): readonly RunnerRecord[] {
    return [...this.#runners.values()];
  }

  #findRegistrationToken(token: string): boolean | undefined {
    for (const [known, active] of this.#registrationTokens) if (sameSecret(known, token)) return active;
    return undefined;
  }
}
