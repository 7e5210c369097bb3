// The legacy flow's resources (GHES where runner-registration answers `use_v2_flow: false`), as
// the reference runner's generated clients address them (TaskAgentHttpClientBase,
// TaskHttpClientBase): route templates under the tenant URL (`.runner` serverUrl) and the
// api-version each call sends in its Accept header.
//   distributedtask/pools                                   GetAgentPools            5.1-preview.1
//   distributedtask/pools/{poolId}/agents[/{agentId}]       Get/Add/Replace/Delete   6.0-preview.2
//   distributedtask/pools/{poolId}/sessions[/{sessionId}]   Create/DeleteAgentSession 5.1-preview.1
//   distributedtask/pools/{poolId}/messages                 GetMessage               6.0-preview.1
//   distributedtask/pools/{poolId}/messages/{messageId}     DeleteMessage            5.1-preview.1
//   distributedtask/pools/{poolId}/jobrequests/{requestId}  Renew/FinishAgentRequest 5.1-preview.1
//   {scope}/_apis/distributedtask/hubs/{hub}/plans/{planId}/…  timelines, feed, logs,
//                                                attachments 5.1-preview.1, events 2.0-preview.1
//                                                (TaskHttpClient)

/** The api-versions of the legacy calls. */
export const LegacyApiVersions = {
  pools: "5.1-preview.1",
  agents: "6.0-preview.2",
  sessions: "5.1-preview.1",
  getMessage: "6.0-preview.1",
  deleteMessage: "5.1-preview.1",
  jobRequests: "5.1-preview.1",
  plan: "5.1-preview.1",
  planEvents: "2.0-preview.1",
} as const;

/** The Accept header of a call with `apiVersion`. */
export function acceptHeader(apiVersion: string): string {
  return `application/json;api-version=${apiVersion}`;
}

function base(tenantUrl: string): string {
  return tenantUrl.endsWith("/") ? tenantUrl : `${tenantUrl}/`;
}

function query(params: Readonly<Record<string, string | undefined>>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, value);
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}

/** `…/_apis/distributedtask/pools[?poolName=]`. */
export function poolsUrl(tenantUrl: string, poolName?: string): string {
  return `${base(tenantUrl)}_apis/distributedtask/pools${query({ poolName })}`;
}

/** `…/pools/{poolId}/agents[/{agentId}][?agentName=]`. */
export function agentsUrl(tenantUrl: string, poolId: number, agentId?: number, agentName?: string): string {
  const path = `${base(tenantUrl)}_apis/distributedtask/pools/${poolId}/agents`;
  return `${agentId === undefined ? path : `${path}/${agentId}`}${query({ agentName })}`;
}

/** `…/pools/{poolId}/sessions[/{sessionId}]`. */
export function sessionsUrl(tenantUrl: string, poolId: number, sessionId?: string): string {
  const path = `${base(tenantUrl)}_apis/distributedtask/pools/${poolId}/sessions`;
  return sessionId === undefined ? path : `${path}/${encodeURIComponent(sessionId)}`;
}

/** What a message poll tells the server. */
export interface LegacyPollQuery {
  readonly sessionId: string;
  readonly lastMessageId: number | undefined;
  readonly status: "Online" | "Busy";
  readonly runnerVersion: string;
  readonly os: string;
  readonly architecture: string;
  readonly disableUpdate: boolean;
}

/** GET `…/pools/{poolId}/messages?sessionId&lastMessageId&status&runnerVersion&os&architecture&disableUpdate`. */
export function messagesUrl(tenantUrl: string, poolId: number, poll: LegacyPollQuery): string {
  return `${base(tenantUrl)}_apis/distributedtask/pools/${poolId}/messages${query({
    sessionId: poll.sessionId,
    lastMessageId: poll.lastMessageId === undefined ? undefined : String(poll.lastMessageId),
    status: poll.status,
    runnerVersion: poll.runnerVersion,
    os: poll.os,
    architecture: poll.architecture,
    disableUpdate: String(poll.disableUpdate),
  })}`;
}

/** DELETE `…/pools/{poolId}/messages/{messageId}?sessionId=`. */
export function messageUrl(tenantUrl: string, poolId: number, messageId: number, sessionId: string): string {
  return `${base(tenantUrl)}_apis/distributedtask/pools/${poolId}/messages/${messageId}${query({ sessionId })}`;
}

/**
 * The lock token of job requests: the reference runner always sends the empty GUID ("lockToken
 * has never been used, keep this here for compat").
 */
export const EMPTY_LOCK_TOKEN = "00000000-0000-0000-0000-000000000000";

/** PATCH `…/pools/{poolId}/jobrequests/{requestId}?lockToken=`. */
export function jobRequestUrl(tenantUrl: string, poolId: number, requestId: number): string {
  return `${base(tenantUrl)}_apis/distributedtask/pools/${poolId}/jobrequests/${requestId}${query({
    lockToken: EMPTY_LOCK_TOKEN,
  })}`;
}

/** Where a legacy job's plan lives: the job message's plan and SystemVssConnection url. */
export interface PlanLocation {
  /** SystemVssConnection url (the tenant). */
  readonly url: string;
  readonly scopeIdentifier: string;
  /** The hub: the plan's `planType`. */
  readonly hub: string;
  readonly planId: string;
}

/** `{url}{scope}/_apis/distributedtask/hubs/{hub}/plans/{planId}`. */
export function planUrl(plan: PlanLocation): string {
  return `${base(plan.url)}${plan.scopeIdentifier}/_apis/distributedtask/hubs/${encodeURIComponent(plan.hub)}/plans/${plan.planId}`;
}

/** PATCH `…/timelines/{timelineId}/records`. */
export function timelineRecordsUrl(plan: PlanLocation, timelineId: string): string {
  return `${planUrl(plan)}/timelines/${timelineId}/records`;
}

/** POST `…/timelines/{timelineId}/records/{recordId}/feed`. */
export function timelineFeedUrl(plan: PlanLocation, timelineId: string, recordId: string): string {
  return `${planUrl(plan)}/timelines/${timelineId}/records/${recordId}/feed`;
}

/** POST `…/logs` (create) or `…/logs/{logId}` (append). */
export function logsUrl(plan: PlanLocation, logId?: number): string {
  return logId === undefined ? `${planUrl(plan)}/logs` : `${planUrl(plan)}/logs/${logId}`;
}

/** The attachment type of a step summary (ChecksAttachmentType.StepSummary). */
export const STEP_SUMMARY_ATTACHMENT_TYPE = "Checks.Step.Summary";

/** PUT `…/timelines/{timelineId}/records/{recordId}/attachments/{type}/{name}`. */
export function attachmentUrl(
  plan: PlanLocation,
  timelineId: string,
  recordId: string,
  type: string,
  name: string,
): string {
  return `${planUrl(plan)}/timelines/${timelineId}/records/${recordId}/attachments/${encodeURIComponent(type)}/${encodeURIComponent(name)}`;
}

/** POST `…/events`. */
export function planEventsUrl(plan: PlanLocation): string {
  return `${planUrl(plan)}/events`;
}
