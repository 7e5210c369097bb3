import type { z } from "zod";
import {
  type BrokerMessage,
  BrokerMigrationBodySchema,
  camelBody,
  JobCancellationBodySchema,
  jsonBody,
  MessageTypes,
  RunnerJobRequestBodySchema,
  RunnerRefreshBodySchema,
  RunnerRefreshConfigBodySchema,
  RunnerShutdownBodySchema,
  timeSpanMs,
} from "./broker-messages.ts";

// What to do with one broker message, decided without I/O (the listener does it). As the
// reference runner: a job request is acknowledged first when it says so, then acquired from its
// run service; cancellations name the job; ForceTokenRefresh renews the runner's token;
// RunnerShutdown stops the runner; BrokerMigration moves the listener to another broker URL;
// self-update (RunnerRefresh, AgentRefresh) is never applied (Solstice CI registers with
// updates disabled) and config refreshes are not supported: both are logged and dropped, as is
// any unknown type. Messages are never deleted in the broker flow.

/** The listener's situation when the message arrives. */
export interface DecisionState {
  /** False once an ephemeral runner took its one job, or while shutting down. */
  readonly acceptingJobs: boolean;
}

/** A decision; the listener `switch`es on `action`. */
export type MessageDecision =
  | {
      readonly action: "acquire-job";
      readonly runnerRequestId: string;
      /** Acknowledge first (best effort, 5 s) when the message asks. */
      readonly acknowledge: boolean;
      /** The run service; undefined means the legacy service at `.runner` serverUrl (unsupported). */
      readonly runServiceUrl: string | undefined;
      readonly billingOwnerId: string | undefined;
    }
  | { readonly action: "cancel-job"; readonly jobId: string; readonly timeoutMs: number | undefined }
  | { readonly action: "refresh-token" }
  | { readonly action: "shutdown"; readonly reason: string }
  | { readonly action: "migrate-broker"; readonly brokerUrl: string }
  | { readonly action: "ignore"; readonly level: "debug" | "info" | "warn"; readonly reason: string };

function parse<S extends z.ZodType>(schema: S, json: unknown): z.infer<S> | string {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`;
}

/**
 * Decides.
 *
 * @example
 *   decideMessage({ messageType: "RunnerJobRequest", body: '{"runner_request_id":"r1",…}' }, { acceptingJobs: true });
 *   // { action: "acquire-job", runnerRequestId: "r1", acknowledge: true, runServiceUrl: "https://run…/", … }
 */
export function decideMessage(message: BrokerMessage, state: DecisionState): MessageDecision {
  const type = message.messageType;
  const is = (name: string) => type.toLowerCase() === name.toLowerCase();
  if (is(MessageTypes.RunnerJobRequest)) {
    const body = parse(RunnerJobRequestBodySchema, jsonBody(message.body));
    if (typeof body === "string")
      return { action: "ignore", level: "warn", reason: `malformed ${type} body (${body})` };
    if (!state.acceptingJobs) {
      return {
        action: "ignore",
        level: "info",
        reason: `job request ${body.runner_request_id} arrived while not accepting jobs`,
      };
    }
    const runServiceUrl = body.run_service_url ?? "";
    return {
      action: "acquire-job",
      runnerRequestId: body.runner_request_id,
      acknowledge: body.should_acknowledge,
      runServiceUrl: runServiceUrl === "" ? undefined : runServiceUrl,
      billingOwnerId: body.billing_owner_id ?? undefined,
    };
  }
  if (is(MessageTypes.JobCancellation)) {
    const body = parse(JobCancellationBodySchema, camelBody(message.body));
    if (typeof body === "string")
      return { action: "ignore", level: "warn", reason: `malformed ${type} body (${body})` };
    return { action: "cancel-job", jobId: body.jobId.toLowerCase(), timeoutMs: timeSpanMs(body.timeout) };
  }
  if (type === MessageTypes.ForceTokenRefresh) return { action: "refresh-token" };
  if (is(MessageTypes.HostedRunnerShutdown) || is("HostedRunnerShutdown")) {
    const body = parse(RunnerShutdownBodySchema, camelBody(message.body));
    const reason = typeof body === "string" ? "" : (body.reason ?? "");
    return {
      action: "shutdown",
      reason: reason === "" ? "the service asked the runner to shut down" : reason,
    };
  }
  if (is(MessageTypes.BrokerMigration)) {
    const body = parse(BrokerMigrationBodySchema, camelBody(message.body));
    if (typeof body === "string")
      return { action: "ignore", level: "warn", reason: `malformed ${type} body (${body})` };
    return { action: "migrate-broker", brokerUrl: body.brokerBaseUrl };
  }
  if (is(MessageTypes.RunnerRefresh) || is(MessageTypes.AgentRefresh)) {
    const body = parse(RunnerRefreshBodySchema, jsonBody(message.body));
    const version = typeof body === "string" ? undefined : body.target_version;
    return {
      action: "ignore",
      level: "info",
      reason: `self-update${version === undefined || version === null ? "" : ` to ${version}`} requested; Solstice CI does not update itself`,
    };
  }
  if (type === MessageTypes.RunnerRefreshConfig) {
    const body = parse(RunnerRefreshConfigBodySchema, jsonBody(message.body));
    const kind = typeof body === "string" ? undefined : body.configType;
    return {
      action: "ignore",
      level: "warn",
      reason: `configuration refresh${kind === undefined || kind === null ? "" : ` (${kind})`} is not supported; re-register the runner if its settings changed`,
    };
  }
  if (is(MessageTypes.PipelineAgentJobRequest)) {
    return {
      action: "ignore",
      level: "warn",
      reason: "a legacy (pipelines) job message; only run-service jobs are supported",
    };
  }
  return { action: "ignore", level: "warn", reason: `unsupported message type ${type}` };
}
