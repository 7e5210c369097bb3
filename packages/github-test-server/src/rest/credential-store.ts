import { randomBytes, randomInt } from "node:crypto";

// The REST API's credentials: personal access tokens, App installations and their tokens, and
// the short-lived registration and remove tokens made from them. A registration token serves
// any number of calls within its hour (the reference runner uses one for several).

/** What a registration or remove token is good for: `repos/owner/name` or `orgs/owner`. */
export type EntityScope = string;

/** What an API token (PAT or installation token) may do. */
export type ApiPrincipal =
  | { readonly kind: "pat"; readonly login: string }
  | { readonly kind: "installation"; readonly installationId: number; readonly account: string };

/** A runner token: its kind, scope and end. */
export interface RunnerTokenRecord {
  readonly token: string;
  readonly kind: "registration" | "remove";
  readonly scope: EntityScope;
  readonly expiresAt: Date;
}

/** An App installation on an account (a user or organisation: the repositories' owner). */
export interface InstallationRecord {
  readonly id: number;
  readonly account: string;
}

const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

function randomText(alphabet: string, length: number): string {
  let text = "";
  for (let i = 0; i < length; i++) text += alphabet[randomInt(alphabet.length)];
  return text;
}

/** The tokens the REST API knows. */
export class CredentialStore {
  readonly #apiTokens = new Map<string, { principal: ApiPrincipal; expiresAt: Date | undefined }>();
  readonly #runnerTokens = new Map<string, RunnerTokenRecord>();
  readonly #tenantTokens = new Map<string, RunnerTokenRecord>();
  readonly #installations = new Map<number, InstallationRecord>();
  #nextInstallationId = 4_000_001;

  /** A PAT (`ghp_` + 36 characters) acting as `login`, with access to every repository. */
  createPersonalAccessToken(login: string): string {
    const token = `ghp_${randomText(ALNUM, 36)}`;
    this.#apiTokens.set(token, { principal: { kind: "pat", login }, expiresAt: undefined });
    return token;
  }

  /** Who an API token acts for; `undefined` when unknown or expired. */
  principalOf(token: string | undefined, now = Date.now()): ApiPrincipal | undefined {
    if (token === undefined) return undefined;
    const entry = this.#apiTokens.get(token);
    if (entry === undefined || (entry.expiresAt !== undefined && entry.expiresAt.getTime() <= now))
      return undefined;
    return entry.principal;
  }

  /** A registration or remove token (29 upper-case characters, as GitHub's) for `scope`. */
  createRunnerToken(
    kind: "registration" | "remove",
    scope: EntityScope,
    lifetimeMs: number,
  ): RunnerTokenRecord {
    const record: RunnerTokenRecord = {
      token: randomText(UPPER_ALNUM, 29),
      kind,
      scope,
      expiresAt: new Date(Date.now() + lifetimeMs),
    };
    this.#runnerTokens.set(record.token, record);
    return record;
  }

  /** The runner token, if known and not expired. */
  runnerToken(token: string | undefined, now = Date.now()): RunnerTokenRecord | undefined {
    if (token === undefined) return undefined;
    const record = this.#runnerTokens.get(token);
    return record === undefined || record.expiresAt.getTime() <= now ? undefined : record;
  }

  /**
   * A tenant token (what runner-registration answers in the legacy flow): the registration or
   * remove token's rights on the tenant's pools and agents, for as long as that token lives.
   */
  createTenantToken(runnerToken: RunnerTokenRecord): string {
    const token = randomHex(20);
    this.#tenantTokens.set(token, runnerToken);
    return token;
  }

  /** The runner token a tenant token was made from, if known and not expired. */
  tenantToken(token: string | undefined, now = Date.now()): RunnerTokenRecord | undefined {
    if (token === undefined) return undefined;
    const record = this.#tenantTokens.get(token);
    return record === undefined || record.expiresAt.getTime() <= now ? undefined : record;
  }

  /** Installs the App on `account`. */
  install(account: string): InstallationRecord {
    for (const installation of this.#installations.values()) {
      if (installation.account.toLowerCase() === account.toLowerCase()) return installation;
    }
    const record = { id: this.#nextInstallationId++, account };
    this.#installations.set(record.id, record);
    return record;
  }

  installation(id: number): InstallationRecord | undefined {
    return this.#installations.get(id);
  }

  installationFor(account: string): InstallationRecord | undefined {
    return [...this.#installations.values()].find((i) => i.account.toLowerCase() === account.toLowerCase());
  }

  /** An installation access token (`ghs_` + 36 characters), valid `lifetimeMs`. */
  createInstallationToken(
    installation: InstallationRecord,
    lifetimeMs: number,
  ): { token: string; expiresAt: Date } {
    const token = `ghs_${randomText(ALNUM, 36)}`;
    const expiresAt = new Date(Date.now() + lifetimeMs);
    this.#apiTokens.set(token, {
      principal: { kind: "installation", installationId: installation.id, account: installation.account },
      expiresAt,
    });
    return { token, expiresAt };
  }
}

/** Whether `principal` may administer runners of `scope`. */
export function principalCovers(principal: ApiPrincipal, scope: EntityScope): boolean {
  if (principal.kind === "pat") return true;
  const owner = scope.startsWith("orgs/") ? scope.slice(5) : (scope.split("/")[1] ?? "");
  return owner.toLowerCase() === principal.account.toLowerCase();
}

/** A random hex secret (tenant tokens and the like). */
export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}
