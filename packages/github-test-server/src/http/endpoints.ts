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
  // Live console feed (the WebSocket handshake) and git
  "feed-connect",
  "git",
] as const;

/** One endpoint's name. */
export type Endpoint = (typeof ENDPOINTS)[number];
