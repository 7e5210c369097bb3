import { z } from "zod";
import { normaliseKeys } from "../settings/runner-settings.ts";

// What the broker's long poll answers: a TaskAgentMessage `{messageId, messageType, iv, body}`
// whose body is JSON text (never encrypted in the broker flow: `iv` stays empty). The bodies of
// the types the reference runner handles, with its field names.

/** The message types (Runner.cs, TaskAgentMessageTypes and the *Message classes). */
export const MessageTypes = {
  RunnerJobRequest: "RunnerJobRequest",
  /** Legacy (pipelines) flow: the whole job message in the body. */
  PipelineAgentJobRequest: "PipelineAgentJobRequest",
  JobCancellation: "JobCancellation",
  ForceTokenRefresh: "ForceTokenRefresh",
  RunnerRefresh: "RunnerRefresh",
  RunnerRefreshConfig: "RunnerRefreshConfig",
  /** HostedRunnerShutdownMessage.MessageType is "RunnerShutdown". */
  HostedRunnerShutdown: "RunnerShutdown",
  BrokerMigration: "BrokerMigration",
  /** Legacy self-update. */
  AgentRefresh: "AgentRefresh",
} as const;

/** A broker message. */
export const BrokerMessageSchema = z.object({
  messageId: z.number().int().optional(),
  messageType: z.string().min(1),
  iv: z.string().nullish(),
  body: z.string().default(""),
});
/** @see BrokerMessageSchema */
export type BrokerMessage = z.infer<typeof BrokerMessageSchema>;

/** RunnerJobRequestRef. */
export const RunnerJobRequestBodySchema = z.object({
  id: z.string().optional(),
  runner_request_id: z.string().min(1),
  should_acknowledge: z.boolean().default(false),
  /** Empty: the legacy actions run service at `.runner` serverUrl. */
  run_service_url: z.string().nullish(),
  billing_owner_id: z.string().nullish(),
});
/** @see RunnerJobRequestBodySchema */
export type RunnerJobRequestBody = z.infer<typeof RunnerJobRequestBodySchema>;

/** .NET TimeSpan as JSON (`"00:05:00"`, `"1.02:03:04.5"`) or seconds → ms. */
export function timeSpanMs(value: string | number | undefined | null): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") return value * 1000;
  const match = /^(-)?(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(value.trim());
  if (match === null) return undefined;
  const [, sign, days, hours, minutes, seconds] = match;
  const total = Number(days ?? 0) * 86_400 + Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
  return Math.round((sign === "-" ? -total : total) * 1000);
}

/** JobCancelMessage (names read in any case). */
export const JobCancellationBodySchema = z.object({
  jobId: z.string().min(1),
  timeout: z.union([z.string(), z.number()]).nullish(),
});

/** HostedRunnerShutdownMessage. */
export const RunnerShutdownBodySchema = z.object({ reason: z.string().nullish() });

/** RunnerRefreshMessage (self-update; Solstice never updates itself). */
export const RunnerRefreshBodySchema = z.object({
  target_version: z.string().nullish(),
  download_url: z.string().nullish(),
  sha256_checksum: z.string().nullish(),
  os: z.string().nullish(),
});

/** RunnerRefreshConfigMessage. */
export const RunnerRefreshConfigBodySchema = z.object({
  runnerQualifiedId: z.string().nullish(),
  configType: z.string().nullish(),
  serviceType: z.string().nullish(),
  configRefreshURL: z.string().nullish(),
});

/** BrokerMigrationMessage (names read in any case). */
export const BrokerMigrationBodySchema = z.object({ brokerBaseUrl: z.string().min(1) });

/** A body as JSON with camel-cased names (for the bodies Newtonsoft reads case-insensitively). */
export function camelBody(body: string): unknown {
  try {
    return normaliseKeys(JSON.parse(body) as unknown);
  } catch {
    return undefined;
  }
}

/** A body as JSON, names untouched (snake_case bodies). */
export function jsonBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}
