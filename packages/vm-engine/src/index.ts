// Public API of @solstice/vm-engine: image fetch, QMP, seed ISO, SSH keys and sessions, QEMU
// lifecycle, console, job execution, VmEngine.
export {
  GuestUnreachableError,
  ImageChecksumError,
  ImageFetchError,
  JobDefinitionError,
  QemuImgError,
  QemuStartError,
  QmpClosedError,
  QmpCommandError,
  QmpConnectError,
  QmpProtocolError,
  QmpTimeoutError,
  SeedIsoError,
  SshCommandError,
  SshConnectError,
  SshPortExhaustedError,
  StepDefinitionError,
  VmImageMissingError,
  VmStateError,
  VmWorkDirError,
  WorkspaceCheckoutError,
} from "./errors.ts";
export {
  type KeyValueFile,
  parseKeyValueFile,
  parsePathFile,
  type StepFileCommands,
  stepFileCommands,
} from "./exec/file-commands.ts";
export {
  type GuestLayout,
  guestLayout,
  RUN_DIR_NAME,
  RUNNER_TEMP_NAME,
  resolveWorkingDirectory,
  runnerTempDir,
  WORKSPACE_DIR_NAME,
} from "./exec/guest-layout.ts";
export type { ExecOptions, ExecResult, GuestShell, RunResult } from "./exec/guest-shell.ts";
export { JobEventEmitter, type JobEventSink } from "./exec/job-events.ts";
export {
  abortReason,
  type ExecuteJobOptions,
  executeJob,
  type JobExecution,
  type StepResult,
  stepDisplayName,
} from "./exec/job-executor.ts";
export {
  JOB_SCRIPT_PATH,
  JOB_SCRIPT_STEP,
  type JobPlan,
  planFromJobScript,
  planFromRequest,
  planFromWorkflowKdl,
  WORKFLOW_KDL_PATH,
} from "./exec/job-plan.ts";
export {
  JobRunState,
  outcomeWithFileCommandErrors,
  type SkipReason,
  type StepDecision,
  type StepEnd,
  type StepVerdict,
} from "./exec/job-run-state.ts";
export { isValidEnvName, renderEnvExports, shQuote } from "./exec/shell-quote.ts";
export { type StepEnvironmentInput, stepEnvironment } from "./exec/step-environment.ts";
export {
  renderStep,
  runStep,
  type StepOutcome,
  type StepRenderInput,
  type StepRunInput,
  sameStepFiles,
  uploadStepFiles,
} from "./exec/step-runner.ts";
export {
  RUNNER_SCRIPT,
  renderKillCommand,
  renderShellCommand,
  renderStepFiles,
  type StepFiles,
  type StepScriptInput,
  shellTemplate,
} from "./exec/step-script.ts";
export {
  CHECKOUT_DONE_MARKER,
  renderWorkspaceScript,
  WORKSPACE_MARKER,
  type WorkspaceScriptInput,
} from "./exec/workspace-script.ts";
export {
  etaSeconds,
  type FetchProgress,
  formatBytes,
  formatDuration,
  formatProgress,
  logProgress,
  type ProgressLogger,
  type ProgressTerminal,
  progressLogFields,
  RateMeter,
  terminalProgress,
} from "./images/fetch-progress.ts";
export {
  type EnsureImageOptions,
  type EnsureImageResult,
  ensureImage,
  ensureImages,
  isImagePresent,
} from "./images/image-fetch.ts";
export { resolveCarriageReturns, stripControlSequences } from "./io/control-chars.ts";
export { LineSplitter, type LineSplitterOptions } from "./io/line-splitter.ts";
export {
  QmpClient,
  type QmpClientEvents,
  type QmpConnectOptions,
  type QmpExecuteOptions,
  type QmpStatus,
} from "./qmp/qmp-client.ts";
export {
  MAX_QMP_LINE_BYTES,
  parseQmpLine,
  type QmpErrorReply,
  type QmpEvent,
  type QmpGreeting,
  type QmpMessage,
  QmpParser,
  type QmpReturn,
} from "./qmp/qmp-parser.ts";
export {
  JOB_FILE_PATH,
  type JobFileFields,
  renderJobFile,
  renderMetaData,
  renderUserData,
  type UserDataInput,
} from "./seed/cloud-config.ts";
export {
  buildIso9660,
  type IsoFile,
  type IsoOptions,
  levelOneNames,
  SECTOR_SIZE,
} from "./seed/iso9660-writer.ts";
export { buildSeedIso, SEED_VOLUME_ID, type SeedFiles, writeSeedIso } from "./seed/seed-iso.ts";
export {
  type EphemeralKeyPair,
  fingerprintOf,
  formatOpenSshPrivateKey,
  formatPublicKey,
  generateEphemeralKeyPair,
} from "./ssh/ssh-keys.ts";
export { type SshConnectOptions, type SshRetryOptions, SshSession } from "./ssh/ssh-session.ts";
export {
  type AccelDecision,
  type AccelMode,
  type AccelProbeLogger,
  clearAccelProbeCache,
  type KvmProbeOptions,
  probeKvm,
  resolveAccel,
} from "./vm/accel-probe.ts";
export { ConsoleTailer, type ConsoleTailerEvents, type ConsoleTailerOptions } from "./vm/console-tailer.ts";
export { type Accel, buildQemuArgs, type QemuCommandSpec, qemuOptionValue } from "./vm/qemu-command.ts";
export { createOverlay, imageVirtualSize, type QemuImgOptions } from "./vm/qemu-img.ts";
export {
  type FoundProcess,
  findQemuProcesses,
  isQemuCommand,
  killAndWait,
  killVmQemu,
  type ProcessStatus,
  probeVmProcess,
  readCommandLine,
} from "./vm/qemu-processes.ts";
export { QemuHypervisor, type QemuHypervisorOptions, type WaitForSshOptions } from "./vm/qemu-vm.ts";
export {
  DEFAULT_SSH_PORT_RANGE,
  fnv1a32,
  preferredSshPort,
  type SshPortRange,
  sshPortCandidates,
  validateSshPortRange,
} from "./vm/ssh-port.ts";
export { isLoopbackPortFree, SshPortAllocator } from "./vm/ssh-port-allocator.ts";
export { defaultVmStateDir, SYSTEM_VM_STATE_DIR, userVmStateDir } from "./vm/state-dir.ts";
export { VmCredentials } from "./vm/vm-credentials.ts";
export { type VmResources, vmNameFor, vmSpecFor } from "./vm/vm-spec.ts";
export type {
  ConnectGuestOptions,
  GuestConsole,
  Hypervisor,
  VmHandle,
  VmImage,
  VmSpec,
  VmState as VmLifecycleState,
} from "./vm/vm-types.ts";
export {
  type JobRunResult,
  type KeepVmContext,
  type RunJobOptions,
  VmEngine,
  type VmEngineOptions,
} from "./vm-engine.ts";
