import type { RepositoryRegistry } from "../repositories/repository-registry.ts";

// Runners belong to an entity: a repository (`repos/owner/name`) or an organisation
// (`orgs/owner`). The runner names it by its GitHub URL (`https://github.com/owner/name`); the
// REST API by its path. Enterprises are not served.

/** The path fragment of an entity route, with `owner`/`repo` or `org` groups. */
export const ENTITY_PATH = "(?:repos/(?<owner>[^/]+)/(?<repo>[^/]+)|orgs/(?<org>[^/]+))";

/** The entity scope (`repos/o/r` or `orgs/o`) of a route's groups. */
export function scopeFromParams(params: Readonly<Record<string, string>>): string {
  if (params.org !== undefined) return `orgs/${params.org}`;
  return `repos/${params.owner ?? ""}/${params.repo ?? ""}`;
}

/** The entity scope of a GitHub URL (`{base}/owner` or `{base}/owner/name`); `undefined` when neither. */
export function scopeFromGitHubUrl(url: string): string | undefined {
  let path: string[];
  try {
    path = new URL(url).pathname.split("/").filter((p) => p !== "");
  } catch {
    return undefined;
  }
  if (path.length === 1) return `orgs/${path[0]}`;
  if (path.length === 2 && path[0]?.toLowerCase() !== "enterprises") return `repos/${path[0]}/${path[1]}`;
  return undefined;
}

/** Whether two scopes name the same entity (GitHub names are case-insensitive). */
export function sameScope(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** The canonical scope when the entity exists on this server. */
export function knownScope(scope: string, repositories: RepositoryRegistry): string | undefined {
  if (scope.startsWith("orgs/")) {
    const org = scope.slice(5);
    return repositories.hasOwner(org) ? `orgs/${org}` : undefined;
  }
  const repository = repositories.get(scope.slice(6));
  return repository === undefined ? undefined : `repos/${repository.fullName}`;
}

/** The GitHub URL of an entity (what the runner is configured with). */
export function gitHubUrlOf(base: string, scope: string): string {
  return `${base}/${scope.startsWith("orgs/") ? scope.slice(5) : scope.slice(6)}`;
}

/** Whether a job of `repository` (owner/name) may run on a runner of `scope`. */
export function scopeCoversRepository(scope: string, repository: string): boolean {
  if (scope.startsWith("orgs/"))
    return repository.toLowerCase().startsWith(`${scope.slice(5).toLowerCase()}/`);
  return sameScope(scope.slice(6), repository);
}
