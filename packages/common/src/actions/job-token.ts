// The job's token in the contexts, one rule for every runner: a non-empty secret under one of
// `names` (in order) overrides `github.token`, as the Forgejo runner does; the token found is then
// `github.token` and every one of those secrets that is not set. GitHub's runner passes the token
// as the secret `GITHUB_TOKEN`; Forgejo's also as `GITEA_TOKEN` and `FORGEJO_TOKEN`.

/** The secret names Forgejo's runner treats as the job token. */
export const FORGEJO_TOKEN_SECRETS = ["FORGEJO_TOKEN", "GITEA_TOKEN", "GITHUB_TOKEN"] as const;

/**
 * Applies the rule to `github` and `secrets` (both changed in place); returns the token, or
 * undefined when there is none.
 *
 * @example
 *   const github = { token: "t1" }, secrets = {};
 *   applyJobToken(github, secrets); // "t1"; secrets.GITHUB_TOKEN === "t1"
 */
export function applyJobToken(
  github: Record<string, unknown>,
  secrets: Record<string, string>,
  names: readonly string[] = ["GITHUB_TOKEN"],
): string | undefined {
  const override = names.map((name) => secrets[name]).find((v) => v !== undefined && v !== "");
  const given = typeof github["token"] === "string" && github["token"] !== "" ? github["token"] : undefined;
  const token = override ?? given;
  if (token === undefined) return undefined;
  github["token"] = token;
  for (const name of names) secrets[name] ??= token;
  return token;
}
