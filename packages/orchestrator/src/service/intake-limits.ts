import type { Env, JobRequest, MessageIssue } from "@solstice/common";

// What one job request may ask of a host, checked when it is taken from the queue and before
// anything is recorded or booted: a request over a bound is refused (dead-lettered with the field
// and the limit as the reason), so it never holds a slot, memory, or the owner's event stream.
// Pure: JobIntake does the I/O. The size of the whole message is checked earlier still, on the
// raw bytes, by the queue (`maxMessageBytes`), so a huge body is never decoded.

/** Bounds of one job request; each is an orchestrator setting (docs/orchestrator.md, "Limits"). */
export interface IntakeLimits {
  /** Steps in `steps` (MAX_JOB_STEPS). */
  readonly maxSteps: number;
  /** UTF-8 bytes of one step's script, its `run` (MAX_STEP_SCRIPT_BYTES). */
  readonly maxStepScriptBytes: number;
  /** Entries of one `env`: the job's, or one step's (MAX_ENV_ENTRIES). */
  readonly maxEnvEntries: number;
  /** UTF-8 bytes of the whole message, checked before it is decoded (MAX_JOB_REQUEST_BYTES). */
  readonly maxRequestBytes: number;
}

/** The limits when no setting says otherwise: far above what a real workflow job asks. */
export const DEFAULT_INTAKE_LIMITS: IntakeLimits = {
  maxSteps: 1_000,
  maxStepScriptBytes: 256 * 1024,
  maxEnvEntries: 1_000,
  // Parsing is what costs: a 3.5 MB request of 100,000 steps grew the service by ~270 MB.
  maxRequestBytes: 1024 * 1024,
};

/** At most this many problems are listed (a request with 100,000 bad steps gets one line). */
export const MAX_LISTED_ISSUES = 5;

/**
 * The bounds `request` goes beyond, each naming the field and the limit; empty when it keeps to
 * them all. The message size is not checked here (see {@link IntakeLimits.maxRequestBytes}).
 *
 * @example
 *   limitIssues({ ...request, steps: manySteps }, DEFAULT_INTAKE_LIMITS);
 *   // [{ path: "steps", message: "100000 steps, more than the 1000 a job may have" }]
 */
export function limitIssues(request: JobRequest, limits: IntakeLimits): MessageIssue[] {
  const issues: MessageIssue[] = [];
  const steps = request.steps ?? [];
  if (steps.length > limits.maxSteps) {
    issues.push({
      path: "steps",
      message: `${steps.length} steps, more than the ${limits.maxSteps} a job may have`,
    });
  }
  issues.push(...envIssues("env", request.env, limits));
  for (const [index, step] of steps.entries()) {
    // The script is the part a producer can make large; count bytes, not characters.
    const bytes = Buffer.byteLength(step.run, "utf8");
    if (bytes > limits.maxStepScriptBytes) {
      issues.push({
        path: `steps[${index}].run`,
        message: `${bytes} bytes, more than the ${limits.maxStepScriptBytes} a step's script may have`,
      });
    }
    issues.push(...envIssues(`steps[${index}].env`, step.env, limits));
  }
  return capIssues(issues);
}

/** The first {@link MAX_LISTED_ISSUES} issues, then one that says how many more there are. */
export function capIssues(issues: readonly MessageIssue[]): MessageIssue[] {
  if (issues.length <= MAX_LISTED_ISSUES) return [...issues];
  const more = issues.length - MAX_LISTED_ISSUES;
  return [...issues.slice(0, MAX_LISTED_ISSUES), { path: "", message: `and ${more} more like these` }];
}

function envIssues(path: string, env: Env | undefined, limits: IntakeLimits): MessageIssue[] {
  if (env === undefined) return [];
  const entries = Object.keys(env).length;
  if (entries <= limits.maxEnvEntries) return [];
  return [{ path, message: `${entries} variables, more than the ${limits.maxEnvEntries} an env may have` }];
}
