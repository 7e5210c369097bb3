import { forgeNames, pathInRepository, repositoryFacts } from "../git/repository-facts.ts";
import type { TranslationContext } from "./job-translation.ts";

/** A commit id for workflows outside any repository (or in one without commits). */
export const PLACEHOLDER_SHA = "0000000000000000000000000000000000000000";

/** What the user may say about the repository (flags); the rest comes from git. */
export interface TranslationFlags {
  readonly job?: string | undefined;
  readonly sha?: string | undefined;
  readonly ref?: string | undefined;
  readonly repository?: string | undefined;
  readonly serverUrl?: string | undefined;
  readonly runsOn?: string | undefined;
}

/**
 * The context to translate `file`'s job in: the flags, else the git repository around the file
 * (HEAD, its branch, `origin`), else placeholders (a zero commit id, `refs/heads/main`,
 * `local/workflow` on `https://localhost`).
 */
export async function translationContextFor(
  file: string,
  flags: TranslationFlags,
): Promise<TranslationContext> {
  const facts = await repositoryFacts(file);
  const names = forgeNames(facts);
  const branch = facts?.branch;
  return {
    jobId: flags.job,
    workflowPath: facts === undefined ? file : pathInRepository(facts, file),
    sha: flags.sha ?? facts?.head ?? PLACEHOLDER_SHA,
    ref: flags.ref ?? (branch === undefined ? "refs/heads/main" : `refs/heads/${branch}`),
    repository: flags.repository ?? names.repository,
    serverUrl: flags.serverUrl ?? names.serverUrl,
    runsOn: flags.runsOn,
  };
}
