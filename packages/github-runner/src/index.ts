// Public API of @solstice/github-runner: GitHub's runner protocol and the translation of its
// jobs as library modules, and the daemon and CLI built on them.
export {
  type AccessToken,
  AccessTokenProvider,
  type AccessTokenProviderOptions,
  JWT_BEARER_ASSERTION_TYPE,
  parseTokenAnswer,
  refreshTime,
  TokenErrorSchema,
  TokenResponseSchema,
  tokenRequestForm,
} from "./auth/access-token.ts";
export {
  ASSERTION_LIFETIME_SECONDS,
  type AssertionAlgorithm,
  type ClientAssertionClaims,
  type ClientAssertionInput,
  createClientAssertion,
} from "./auth/client-assertion.ts";
export {
  canonicalRsaParamKeys,
  generateRunnerKey,
  keyFromRsaParams,
  publicKeyFromXml,
  publicKeyXml,
  type RsaParams,
  RsaParamsSchema,
  RUNNER_KEY_BITS,
  rsaParamsFromKey,
} from "./auth/rsa-key.ts";
export { runnerTokenProvider } from "./auth/runner-token-provider.ts";
export { MAX_AUTH_RETRIES, type TokenSource, withTokenRetries } from "./auth/token-retry.ts";
export {
  CLOCK_SKEW_LIMIT_MS,
  MAX_POLL_ERRORS,
  pollRetryDelay,
  randomBackoff,
  SESSION_CONFLICT_LIMIT_MS,
  SESSION_RETRY_MS,
  type SessionFailure,
  sessionRetryDelay,
} from "./broker/broker-backoff.ts";
export {
  acknowledgeQuery,
  BrokerClient,
  type BrokerClientOptions,
  BrokerErrorKinds,
  BrokerErrorSchema,
  type BrokerSession,
  brokerError,
  brokerUrl,
  fetchConnectionData,
  messageQuery,
  type PollIdentity,
  parseMessageAnswer,
  type RunnerStatus,
  type SessionRequest,
  SessionResponseSchema,
  sessionBody,
  sessionFailureKind,
} from "./broker/broker-client.ts";
export {
  type BrokerMessage,
  BrokerMessageSchema,
  BrokerMigrationBodySchema,
  JobCancellationBodySchema,
  MessageTypes,
  type RunnerJobRequestBody,
  RunnerJobRequestBodySchema,
  RunnerRefreshBodySchema,
  RunnerRefreshConfigBodySchema,
  RunnerShutdownBodySchema,
  timeSpanMs,
} from "./broker/broker-messages.ts";
export { type DecisionState, decideMessage, type MessageDecision } from "./broker/message-decision.ts";
export {
  appTargetUrl,
  chooseDaemonMode,
  type DaemonModeChoice,
  type DaemonModeFlags,
} from "./cli/daemon-mode.ts";
export { buildProgram, DEFAULT_STATE_DIR, SERVICE_NAME } from "./cli/program.ts";
export { LABELS_FILE, readLabelsFile, writeLabelsFile } from "./cli/runner-labels-file.ts";
export {
  type AppRunnerPoolOptions,
  jitRunnerName,
  mintRetryDelay,
  runAppRunnerPool,
} from "./daemon/app-runner-pool.ts";
export { JobTokenStore } from "./daemon/job-token-store.ts";
export {
  appInstance,
  type DaemonMode,
  type RunnerDaemon,
  type RunnerDaemonConfig,
  runnerInstance,
  startRunnerDaemon,
} from "./daemon/runner-daemon.ts";
export { type ListenerEnd, RunnerListener, type RunnerListenerOptions } from "./daemon/runner-listener.ts";
export { type JobRunner, RunningJobs, type RunningJobsOptions } from "./daemon/running-jobs.ts";
export {
  ActionsServiceError,
  GitHubHttpError,
  GitHubResponseError,
  GitHubRunnerError,
  GitHubUrlError,
  JitConfigError,
  JobMessageError,
  ResultsServiceError,
  RunnerExistsError,
  RunnerGroupNotFoundError,
  RunnerKeyError,
  RunnerRemovedError,
  RunnerSettingsError,
  redactUrl,
  TokenExchangeError,
} from "./errors.ts";
export { type FetchFunction, type HttpAnswer, type HttpCall, httpCall } from "./http/http-call.ts";
export {
  ContextDataType,
  contextDataToExpressionData,
  contextDataToJson,
  jsonToContextData,
  type PipelineContextDataJson,
  PipelineContextDataSchema,
} from "./job/context-data.ts";
export { base64Forms, type JobMasks, jobMasks } from "./job/job-masks.ts";
export {
  type AgentJobRequestMessage,
  AgentJobRequestMessageSchema,
  contextData,
  feedStreamUrl,
  type JobMessageStep,
  JobMessageStepSchema,
  jobConnection,
  parseJobMessage,
  referenceKind,
  resultsEndpoint,
  type ServiceEndpoint,
  type StepReference,
  systemConnection,
  variable,
} from "./job/job-message.ts";
export {
  type GitHubJob,
  type GitHubJobStep,
  type GitHubRunnerIdentity,
  type JobMessageTranslationInput,
  jobMessageContexts,
  jobMessageToJobRequest,
  jobMessageWorkflow,
} from "./job/job-message-translation.ts";
export {
  evaluateTemplateToken,
  mappingValue,
  TemplateTokenError,
  type TemplateTokenJson,
  TemplateTokenSchema,
  TokenType,
  toActionsValue,
} from "./job/template-token.ts";
export {
  type AppJitConfigOptions,
  appJitConfig,
  appRunnerToken,
  createGitHubApp,
  type GitHubAppCredentials,
  installationOctokit,
} from "./registration/github-app.ts";
export {
  actionsUrl,
  apiBaseUrl,
  type GitHubTarget,
  isHostedGitHub,
  jitConfigUrl,
  parseGitHubUrl,
  type RunnerScope,
  registerRunnerUrl,
  runnerGroupsUrl,
  runnerRegistrationUrl,
  runnersByNameUrl,
  runnerTokenUrl,
  runnerUrl,
  scopePath,
} from "./registration/github-urls.ts";
export {
  createRunnerToken,
  type RegisterRunnerOptions,
  registerRunner,
  removeRunner,
} from "./registration/register-runner.ts";
export {
  chooseRunnerGroup,
  configurationFromRegistration,
  type JitConfigRequest,
  type JitConfigResponse,
  JitConfigResponseSchema,
  parseGitHubBody,
  type RegisteredRunner,
  RegisteredRunnerSchema,
  type RegisterRunnerFields,
  type RegistrationOutcome,
  type RunnerEvent,
  type RunnerGroup,
  RunnerGroupListSchema,
  RunnerListSchema,
  type RunnerRegistrationResponse,
  RunnerRegistrationResponseSchema,
  RunnerTokenSchema,
  registerRunnerBody,
  runnerRegistrationBody,
} from "./registration/registration-api.ts";
export {
  archLabel,
  labelObjects,
  osLabel,
  type RunnerLabelOptions,
  runnerLabels,
} from "./registration/runner-labels.ts";
export { BLOCK_SIZE, type BlobRequest, blobUploadPlan, uploadBlob } from "./report/blob-upload.ts";
export {
  type GitHubJobJournal,
  type GitHubJobJournalEntry,
  GitHubJobJournalEntrySchema,
  JobReportSnapshotSchema,
  jobJournalSchema,
} from "./report/job-journal-entry.ts";
export {
  dotnetTimestamp,
  type FeedBatch,
  JobReport,
  type JobReportInit,
  type JobReportSnapshot,
  type PendingLog,
  type StepReportState,
  type StepSnapshot,
  type StepStatus,
} from "./report/job-report.ts";
export { DEFAULT_REPORT_INTERVAL_MS, JobReporter, type JobReporterOptions } from "./report/job-reporter.ts";
export { feedFrame, feedSocketUrl, LiveFeed, type LiveFeedOptions } from "./report/live-feed.ts";
export { planReport, type ReportAction, type ReportView } from "./report/report-plan.ts";
export {
  AZURE_BLOB_STORAGE,
  checkOk,
  jobLogsMetadataRequest,
  jobLogsUrlRequest,
  OkResponseSchema,
  parseSignedUrl,
  type ResultsIds,
  type ResultsMethod,
  ResultsMethods,
  type SignedLogsUrl,
  SignedLogsUrlSchema,
  StepConclusionNumbers,
  StepStatusNumbers,
  stepLogsMetadataRequest,
  stepLogsUrlRequest,
  stepsUpdateRequest,
  twirpUrl,
} from "./report/results-api.ts";
export { ResultsClient, type ResultsClientOptions } from "./report/results-client.ts";
export { type AnnotationLevel, displayLine, parseAnnotation } from "./report/workflow-commands.ts";
export {
  JobLockRenewer,
  type JobLockRenewerOptions,
  type RenewalEnd,
} from "./run-service/job-lock-renewer.ts";
export {
  type AcquireFailure,
  acquireFailure,
  acquireJobBody,
  type CompleteJobInput,
  completeJobBody,
  isFinalCompleteError,
  isJobNotFound,
  type JobConclusionName,
  parseLockedUntil,
  RenewJobResponseSchema,
  type RunServiceAnnotation,
  RunServiceErrorSchema,
  type RunServiceStepResult,
  renewJobBody,
  runServiceError,
  runServiceStatus,
} from "./run-service/run-service-api.ts";
export {
  acquireJob,
  completeJob,
  completeJobWithRetries,
  type JobConnection,
  renewJob,
} from "./run-service/run-service-client.ts";
export { decodeJitConfig, decodeJitConfigFiles } from "./settings/jit-config.ts";
export {
  deleteRunnerConfiguration,
  isConfigured,
  parseSettingsFile,
  type RunnerConfiguration,
  readRunnerConfiguration,
  writeFileAtomic,
  writeRunnerConfiguration,
} from "./settings/runner-files.ts";
export {
  authorizationUrls,
  CREDENTIALS_FILE,
  CredentialDataSchema,
  credentialsFileContent,
  normaliseKeys,
  RSA_PARAMS_FILE,
  type RunnerCredentials,
  RunnerCredentialsSchema,
  type RunnerSettings,
  RunnerSettingsSchema,
  SETTINGS_FILE,
  settingsFileContent,
} from "./settings/runner-settings.ts";
export { PACKAGE_VERSION, RUNNER_PROTOCOL_VERSION, userAgent } from "./version.ts";
