import { EXIT_USAGE } from "@solstice/cli-kit";
import { CiadmError } from "../errors.ts";

// Short request ids, as git takes short commit ids: any unique prefix of at least 4 characters
// (a full id is taken as is). Pure: the client pages through the jobs and asks `matchIdPrefix`.

/** The shortest prefix taken (as git). */
export const MIN_ID_PREFIX = 4;
/** How many of the newest jobs a prefix is looked up among. */
export const MAX_PREFIX_SCAN = 20_000;

const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PREFIX = /^[0-9a-f-]+$/;

/** A job a prefix may name, with what tells it apart in a list of candidates. */
export interface IdCandidate {
  readonly request_id: string;
  readonly state: string;
  readonly received_at: string;
}

/** Whether `text` is a whole request id (then no lookup is needed). */
export function isFullRequestId(text: string): boolean {
  return FULL_ID.test(text.toLowerCase());
}

/** A prefix that cannot name a job: too short or not hex. */
export class IdPrefixError extends CiadmError {
  constructor(text: string) {
    super(
      "CIADM_ID_PREFIX",
      `"${text.slice(0, 80)}" is not a request id or a prefix of one (at least ${MIN_ID_PREFIX} of its characters: 0-9, a-f, -)`,
      { exitCode: EXIT_USAGE, hint: "list the jobs with: ciadm jobs" },
    );
  }
}

/** No job's id starts with the prefix. */
export class JobIdNotFoundError extends CiadmError {
  constructor(prefix: string, scanned: number) {
    super(
      "CIADM_JOB_NOT_FOUND",
      `no job's request id starts with ${prefix} (among the ${scanned} newest jobs)`,
      {
        exitCode: EXIT_USAGE,
        hint: "list the jobs with: ciadm jobs (or give the whole id)",
      },
    );
  }
}

/** Several jobs' ids start with the prefix. */
export class JobIdAmbiguousError extends CiadmError {
  readonly candidates: readonly IdCandidate[];

  constructor(prefix: string, candidates: readonly IdCandidate[]) {
    const listed = candidates
      .slice(0, 10)
      .map((c) => `  ${c.request_id}  ${c.state}  received ${c.received_at}`)
      .join("\n");
    const more = candidates.length > 10 ? `\n  … and ${candidates.length - 10} more` : "";
    super(
      "CIADM_JOB_AMBIGUOUS",
      `${candidates.length} jobs' request ids start with ${prefix}:\n${listed}${more}`,
      { exitCode: EXIT_USAGE, hint: "give more of the id" },
    );
    this.candidates = candidates;
  }
}

/**
 * The prefix, lowercased, once checked.
 * @throws IdPrefixError
 */
export function checkIdPrefix(text: string): string {
  const prefix = text.trim().toLowerCase();
  if (prefix.length < MIN_ID_PREFIX || prefix.length > 36 || !PREFIX.test(prefix))
    throw new IdPrefixError(text);
  return prefix;
}

/**
 * The one job among `jobs` whose id starts with `prefix`.
 * @throws JobIdNotFoundError, JobIdAmbiguousError (listing the candidates)
 */
export function matchIdPrefix(prefix: string, jobs: readonly IdCandidate[]): string {
  const found = new Map<string, IdCandidate>();
  for (const job of jobs) if (job.request_id.startsWith(prefix)) found.set(job.request_id, job);
  const candidates = [...found.values()];
  if (candidates.length === 0) throw new JobIdNotFoundError(prefix, jobs.length);
  if (candidates.length > 1) throw new JobIdAmbiguousError(prefix, candidates);
  return candidates[0]!.request_id;
}
