// The endpoints the server answers, by name: the call log records them and faults are
// injected by them.

export const ENDPOINTS = [
  // REST API
  "registration-token",
  "remove-token",
  "runner-registration",
  "runner-groups",
  "list-runners",
  "register-runner",
  "delete-runner",
  "generate-jitconfig",
  "get-installation",
  "installation-token",
  // Runner authentication and the tenant
  "oauth-token",
  "connection-data",
  // Broker
  "create-session",
  "delete-session",
  "get-message",
  "acknowledge",
  // Run service
  "acquirejob",
  "renewjob",
  "completejob",
  // Results service (Twirp methods) and blob storage
  "GetStepLogsSignedBlobURL",
  "CreateStepLogsMetadata",
  "GetJobLogsSignedBlobURL",
  "CreateJobLogsMetadata",
  "GetStepSummarySignedBlobURL",
  "CreateStepSummaryMetadata",
  "GetJobDiagLogsSignedBlobURL",
  "WorkflowStepsUpdate",
  "blob-upload",
  "blob-download",
  // The legacy (GHES, use_v2_flow false) flow under the tenant URL: distributedtask pools,
  // agents, sessions, messages, job requests, and the plan's timeline, feed, logs and events
  "legacy-pools",
  "legacy-list-agents",
  "legacy-add-agent",
  "legacy-replace-agent",
  "legacy-delete-agent",
  "legacy-create-session",
  "legacy-delete-session",
  "legacy-get-message",
  "legacy-delete-message",
  "legacy-update-job-request",
  "legacy-update-timeline-records",
  "legacy-append-timeline-feed",
  "legacy-create-log",
  "legacy-append-log",
  "legacy-create-attachment",
  "legacy-plan-event",
  // Live console feed (the WebSocket handshake) and git
  "feed-connect",
  "git",
] as const;

/** One endpoint's name. */
export type Endpoint = (typeof ENDPOINTS)[number];
