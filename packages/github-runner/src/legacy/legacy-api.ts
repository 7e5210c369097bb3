import type { KeyObject } from "node:crypto";
import { z } from "zod";
import { RunnerGroupNotFoundError } from "../errors.ts";
import type { GitHubTarget } from "../registration/github-urls.ts";
import type { RunnerRegistrationResponse } from "../registration/registration-api.ts";
import { labelObjects } from "../registration/runner-labels.ts";
import type { StepReportState } from "../report/job-report.ts";
import type { JobConclusionName, RunServiceAnnotation } from "../run-service/run-service-api.ts";
import type { RunnerConfiguration } from "../settings/runner-files.ts";

// The legacy flow's bodies, as the reference runner writes and reads them (VSS JSON: camelCase
// names, enums as camelCase strings, `byte[]` as base64, collections as `{count, value}`), and
// the pure steps between them: the pool to register into, the agent body, the files to write,
// the timeline records of a job's steps, feed lines, and the JobCompleted event.

/** A VssJsonCollectionWrapper of `item`. */
export function collectionSchema<S extends z.ZodType>(item: S) {
  return z.object({ count: z.number().int().optional(), value: z.array(item).default([]) });
}

/** A TaskAgentPool. */
export const TaskAgentPoolSchema = z.looseObject({
  id: z.number().int(),
  name: z.string(),
  isHosted: z.boolean().default(false),
  isInternal: z.boolean().default(false),
});
/** @see TaskAgentPoolSchema */
export type TaskAgentPool = z.infer<typeof TaskAgentPoolSchema>;

/** A TaskAgent as add, replace and get answer it. */
export const TaskAgentSchema = z.looseObject({
  id: z.number().int().nonnegative(),
  name: z.string(),
  authorization: z
    .looseObject({
      authorizationUrl: z.string().nullish(),
      clientId: z.string().nullish(),
    })
    .nullish(),
  properties: z.record(z.string(), z.unknown()).nullish(),
});
/** @see TaskAgentSchema */
export type TaskAgent = z.infer<typeof TaskAgentSchema>;

/**
 * The pool to register into, as ConfigurationManager picks it: the one named (case-insensitive,
 * not hosted), else the internal (default) pool. Throws `RunnerGroupNotFoundError`.
 */
export function chooseLegacyPool(pools: readonly TaskAgentPool[], name?: string): TaskAgentPool {
  const defaultPool = pools.find((p) => p.isInternal);
  const selfHosted = pools.filter((p) => !p.isHosted);
  if (selfHosted.length === 0) {
    if (defaultPool === undefined) throw new RunnerGroupNotFoundError(undefined);
    return defaultPool;
  }
  const wanted = name ?? defaultPool?.name;
  const found =
    wanted === undefined ? undefined : selfHosted.find((p) => p.name.toLowerCase() === wanted.toLowerCase());
  if (found === undefined) throw new RunnerGroupNotFoundError(name);
  return found;
}

/** What the agent body says. */
export interface LegacyAgentFields {
  readonly name: string;
  readonly version: string;
  readonly osDescription: string;
  readonly labels: readonly string[];
  readonly noDefaultLabels?: boolean;
  readonly ephemeral: boolean;
  readonly disableUpdate: boolean;
  /** The runner's key (its public half is sent). */
  readonly key: KeyObject;
}

/** The TaskAgent body of POST (add) and PUT (replace): the public key as `{exponent, modulus}`. */
export function legacyAgentBody(fields: LegacyAgentFields, agentId?: number): Record<string, unknown> {
  const jwk = fields.key.export({ format: "jwk" });
  const body: Record<string, unknown> = {
    name: fields.name,
    version: fields.version,
    osDescription: fields.osDescription,
    maxParallelism: 1,
    ephemeral: fields.ephemeral,
    disableUpdate: fields.disableUpdate,
    labels: labelObjects(fields.labels, fields.noDefaultLabels).map(({ name, type }) => ({ name, type })),
    authorization: {
      publicKey: {
        exponent: Buffer.from(jwk.e ?? "", "base64url").toString("base64"),
        modulus: Buffer.from(jwk.n ?? "", "base64url").toString("base64"),
      },
    },
  };
  if (agentId !== undefined) body.id = agentId;
  return body;
}

/** A PropertiesCollection value: raw, or `{$type, $value}` as .NET writes typed values. */
export function agentProperty(agent: TaskAgent, name: string): unknown {
  const properties = agent.properties ?? {};
  const key = Object.keys(properties).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : properties[key];
  if (typeof value === "object" && value !== null && "$value" in value)
    return (value as { $value: unknown }).$value;
  return value;
}

function booleanProperty(agent: TaskAgent, name: string): boolean | undefined {
  const value = agentProperty(agent, name);
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
  return undefined;
}

/** What {@link configurationFromLegacyAgent} combines. */
export interface LegacyRegistrationOutcome {
  readonly target: GitHubTarget;
  readonly tenant: RunnerRegistrationResponse;
  readonly pool: TaskAgentPool;
  readonly agent: TaskAgent;
  readonly key: KeyObject;
  readonly ephemeral: boolean;
  readonly disableUpdate: boolean;
  readonly workFolder: string;
}

/**
 * The files after a legacy registration, as ConfigurationManager writes them: `.runner` with the
 * pool and agent ids and `useV2Flow` false (unless the agent's properties enforce
 * `ServerUrlV2`/`UseV2Flow`); `.credentials` with the agent's OAuth client and
 * `requireFipsCryptography` from its properties (default true). Returns undefined when the agent
 * has no OAuth client (the reference runner refuses such a server).
 */
export function configurationFromLegacyAgent(
  outcome: LegacyRegistrationOutcome,
): RunnerConfiguration | undefined {
  const { agent } = outcome;
  const clientId = agent.authorization?.clientId ?? "";
  const authorizationUrl = agent.authorization?.authorizationUrl ?? "";
  if (clientId === "" || /^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(clientId) || authorizationUrl === "")
    return undefined;
  const serverUrlV2 = agentProperty(agent, "ServerUrlV2");
  const useV2Flow = booleanProperty(agent, "UseV2Flow") === true;
  const authorizationUrlV2 = agentProperty(agent, "AuthorizationUrlV2");
  const migrate =
    booleanProperty(agent, "EnableAuthMigrationByDefault") === true &&
    typeof authorizationUrlV2 === "string" &&
    authorizationUrlV2 !== "";
  return {
    settings: {
      agentId: agent.id,
      agentName: agent.name,
      poolId: outcome.pool.id,
      poolName: outcome.pool.name,
      serverUrl: outcome.tenant.url,
      ...(typeof serverUrlV2 === "string" && serverUrlV2 !== "" ? { serverUrlV2 } : {}),
      gitHubUrl: outcome.target.url,
      workFolder: outcome.workFolder,
      useV2Flow,
      useRunnerAdminFlow: false,
      ephemeral: outcome.ephemeral,
      disableUpdate: outcome.disableUpdate,
      isHostedServer: outcome.target.hosted,
    },
    credentials: {
      scheme: "OAuth",
      data: {
        clientId,
        authorizationUrl,
        requireFipsCryptography: booleanProperty(agent, "RequireFipsCryptography") ?? true,
        ...(migrate ? { authorizationUrlV2, enableAuthMigrationByDefault: true } : {}),
      },
    },
    key: outcome.key,
  };
}

/** The TaskAgentSession answer: the session id and its encryption key. */
export const LegacySessionSchema = z.looseObject({
  sessionId: z.string().min(1),
  useFipsEncryption: z.boolean().nullish(),
  encryptionKey: z.object({ encrypted: z.boolean().nullish(), value: z.string().nullish() }).nullish(),
});
/** @see LegacySessionSchema */
export type LegacySession = z.infer<typeof LegacySessionSchema>;

/** A TaskAgentMessage (`iv` base64; `body` base64 ciphertext when `iv` is set). */
export const LegacyMessageSchema = z.object({
  messageId: z.number().int().nonnegative(),
  messageType: z.string().min(1),
  iv: z.string().nullish(),
  body: z.string().default(""),
});
/** @see LegacyMessageSchema */
export type LegacyMessage = z.infer<typeof LegacyMessageSchema>;

/** The message type of a legacy job request: the job message itself is the body. */
export const PIPELINE_AGENT_JOB_REQUEST = "PipelineAgentJobRequest";

/** Plans from this version on complete by a JobCompleted event (PlanUtil: JobCompletedPlanEvent). */
export const JOB_COMPLETED_EVENT_PLAN_VERSION = 8;

/** Whether a plan of `version` completes by the JobCompleted event (else by finishing the request). */
export function completesByPlanEvent(version: number | null | undefined): boolean {
  return (version ?? 0) >= JOB_COMPLETED_EVENT_PLAN_VERSION;
}

/** The body of a renewal (RenewAgentRequest) or a finish (FinishAgentRequest). */
export function jobRequestBody(
  requestId: number,
  finish?: { readonly result: JobConclusionName; readonly finishTime: Date },
): Record<string, unknown> {
  return finish === undefined
    ? { requestId }
    : { requestId, finishTime: finish.finishTime.toISOString(), result: finish.result };
}

/** The TaskAgentJobRequest a renewal answers (its lock). */
export const JobRequestAnswerSchema = z.looseObject({ lockedUntil: z.string().nullish() });

/** A timeline record (TimelineRecord), as the worker's JobServerQueue updates them. */
export interface TimelineRecordJson {
  readonly id: string;
  readonly parentId?: string | null;
  readonly type?: string;
  readonly name?: string;
  readonly refName?: string | null;
  readonly order?: number;
  readonly state?: "pending" | "inProgress" | "completed";
  readonly result?: JobConclusionName | null;
  readonly startTime?: string | null;
  readonly finishTime?: string | null;
  readonly log?: { readonly id: number } | null;
  readonly errorCount?: number;
  readonly warningCount?: number;
  readonly issues?: readonly Record<string, unknown>[];
}

function issueOf(annotation: RunServiceAnnotation): Record<string, unknown> | undefined {
  if (annotation.level === "notice") return undefined;
  const data: Record<string, string> = {};
  if (annotation.path !== undefined) data.file = annotation.path;
  if (annotation.startLine !== undefined) data.line = String(annotation.startLine);
  if (annotation.startColumn !== undefined) data.col = String(annotation.startColumn);
  if (annotation.title !== undefined) data.title = annotation.title;
  return {
    type: annotation.level === "failure" ? "error" : "warning",
    category: "General",
    message: annotation.message,
    isInfrastructureIssue: annotation.isInfrastructureIssue ?? false,
    data,
  };
}

/** The steps' timeline records (children of the job's record, `order` = step number). */
export function stepTimelineRecords(jobId: string, steps: readonly StepReportState[]): TimelineRecordJson[] {
  return steps.map((step) => {
    const issues = step.annotations.flatMap((a): Record<string, unknown>[] => {
      const issue = issueOf(a);
      return issue === undefined ? [] : [issue];
    });
    return {
      id: step.externalId,
      parentId: jobId,
      type: "Task",
      name: step.name,
      refName: step.contextName ?? null,
      order: step.number,
      state: step.status,
      result: step.conclusion ?? null,
      startTime: step.startedAt?.toISOString() ?? null,
      finishTime: step.completedAt?.toISOString() ?? null,
      errorCount: issues.filter((i) => i.type === "error").length,
      warningCount: issues.filter((i) => i.type === "warning").length,
      issues,
    };
  });
}

/** The job's own timeline record (its id is the job id). */
export function jobTimelineRecord(
  jobId: string,
  name: string,
  state: { readonly startedAt?: Date; readonly result?: JobConclusionName; readonly finishedAt?: Date },
): TimelineRecordJson {
  return {
    id: jobId,
    type: "Job",
    name,
    state: state.result === undefined ? "inProgress" : "completed",
    ...(state.result === undefined ? {} : { result: state.result }),
    ...(state.startedAt === undefined ? {} : { startTime: state.startedAt.toISOString() }),
    ...(state.finishedAt === undefined ? {} : { finishTime: state.finishedAt.toISOString() }),
  };
}

/** The body of PATCH timeline records (a VssJsonCollectionWrapper). */
export function timelineRecordsBody(records: readonly TimelineRecordJson[]): {
  count: number;
  value: readonly TimelineRecordJson[];
} {
  return { count: records.length, value: records };
}

/** The TaskLog of create-log: the path the worker names a record's log by. */
export function createLogBody(recordId: string): { path: string } {
  return { path: `logs\\${recordId}` };
}

/** The TaskLog answer of create-log. */
export const TaskLogSchema = z.looseObject({ id: z.number().int().nonnegative() });

/** TimelineRecordFeedLinesWrapper: a step's lines from `startLine` (1-based). */
export function feedLinesBody(
  stepId: string,
  lines: readonly string[],
  startLine: number,
): { stepId: string; value: readonly string[]; count: number; startLine: number } {
  return { stepId, value: lines, count: lines.length, startLine };
}

/** The JobCompleted plan event. Outputs are VariableValues (none secret: masked lines never reach them). */
export function jobCompletedEvent(
  requestId: number,
  jobId: string,
  result: JobConclusionName,
  outputs: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const values: Record<string, { value: string; isSecret: boolean }> = {};
  for (const [name, value] of Object.entries(outputs)) values[name] = { value, isSecret: false };
  return { name: "JobCompleted", jobId, requestId, result, outputs: values };
}
