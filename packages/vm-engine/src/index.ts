// Public API of @solstice/vm-engine: image fetch, QMP, seed ISO, SSH keys and sessions, QEMU
// lifecycle, console, job execution, VmEngine.
export {
  GuestUnreachableError,
  ImageChecksumError,
  ImageFetchError,
  JobDefinitionError,
  JobTimeoutError,
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
  SshReconnectError,
  StepDefinitionError,
  StepFollowProtocolError,
  VmImageMissingError,
  VmStateError,
  VmWorkDirError,
  WarmRestoreError,
  WarmTemplateError,
  WorkspaceCheckoutError,
} from "./errors.ts";
export { WORKSPACE_DIR_NAME } from "./exec/guest-layout.ts";
export type { ExecOptions, ExecResult, GuestShell, RunResult } from "./exec/guest-shell.ts";
export { JobEventEmitter, type JobEventSink } from "./exec/job-events.ts";
export {
  type ExecuteJobOptions,
  executeJob,
  type JobExecution,
  type StepResult,
} from "./exec/job-executor.ts";
export {
  type GuestConnector,
  ReconnectingGuestShell,
  type ReconnectPolicy,
} from "./exec/reconnecting-guest-shell.ts";
export {
  type FetchProgress,
  formatBytes,
  formatProgress,
  logProgress,
  terminalProgress,
} from "./images/fetch-progress.ts";
export {
  type EnsureImageOptions,
  type EnsureImageResult,
  ensureImage,
  ensureImages,
  isImagePresent,
} from "./images/image-fetch.ts";
export { LineSplitter } from "./io/line-splitter.ts";
export { generateEphemeralKeyPair } from "./ssh/ssh-keys.ts";
export { SshSession } from "./ssh/ssh-session.ts";
export { type AccelMode, resolveAccel } from "./vm/accel-probe.ts";
export type { Accel } from "./vm/qemu-command.ts";
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
export {
  QemuHypervisor,
  type QemuHypervisorOptions,
  type QemuPrepareOptions,
  type RestoreSource,
  type WaitForSshOptions,
} from "./vm/qemu-vm.ts";
export { SshPortAllocator } from "./vm/ssh-port-allocator.ts";
export { defaultVmStateDir } from "./vm/state-dir.ts";
export { type VmResources, vmNameFor, vmSpecFor } from "./vm/vm-spec.ts";
export type {
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
export type { BuiltTemplate } from "./warm/template-build.ts";
export {
  DEFAULT_SETTLE,
  type StartKind,
  type TemplateState,
  type TemplateView,
  type WarmEvent,
  WarmTemplates,
  type WarmTemplatesOptions,
} from "./warm/warm-templates.ts";
